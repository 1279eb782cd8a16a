# Reference numbers for crmlib.survey, computed once and committed.
#
# Run from the repository root:  Rscript tests/data/survey/make_reference.R
# Needs (Debian bookworm): r-base-core 4.2.2, r-cran-survey 4.1-1, r-cran-psych 2.2.9,
# r-cran-psychtools. relaimpo is not packaged in Debian and CRAN is not reachable here, so
# LMG is computed below by brute force over all orderings of the regressors, refitting each
# regression with lm() (an independent check of crmlib's closed-form subset R2); the shares
# are also compared in the tests with relaimpo's published swiss output (Groemping 2006).
#
# Writes, next to this script:
#   apistrat.csv, apiclus1.csv, apiclus2.csv, apipop.csv   (R survey's api data, few columns)
#   bfi_agree.csv                                          (psych::bfi A1-A5, complete cases)
#   swiss.csv                                              (R datasets::swiss)
#   reference.csv                                          (case, quantity, stat, value)

suppressPackageStartupMessages({
  library(survey)
  library(psych)
})
out_dir <- "tests/data/survey"
data(api)

keep_strat <- c("cds", "stype", "sch.wide", "comp.imp", "api00", "api99", "enroll", "meals",
                "pw", "fpc")
keep_clus1 <- c("cds", "dnum", "stype", "sch.wide", "comp.imp", "api00", "api99", "enroll",
                "meals", "pw", "fpc")
keep_clus2 <- c("cds", "dnum", "snum", "stype", "sch.wide", "api00", "api99", "enroll", "pw",
                "fpc1", "fpc2")
write.csv(apistrat[keep_strat], file.path(out_dir, "apistrat.csv"), row.names = FALSE)
write.csv(apiclus1[keep_clus1], file.path(out_dir, "apiclus1.csv"), row.names = FALSE)
write.csv(apiclus2[keep_clus2], file.path(out_dir, "apiclus2.csv"), row.names = FALSE)
write.csv(apipop[c("stype", "sch.wide", "api00", "enroll")],
          file.path(out_dir, "apipop.csv"), row.names = FALSE)

rows <- list()
add <- function(case, quantity, stat, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity, stat = stat,
                                          value = sprintf("%.15g", as.numeric(value)))
}
add_est <- function(case, est, quantity = names(coef(est))) {
  add(case, quantity, "estimate", coef(est))
  add(case, quantity, "se", SE(est))
  d <- attr(est, "deff")
  if (!is.null(d)) add(case, quantity, "deff", diag(as.matrix(d)))
}

# --- designs -----------------------------------------------------------------------------
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)

for (nm in c("dstrat", "dclus1", "dclus2")) {
  des <- get(nm)
  add_est(nm, svymean(~api00, des, deff = TRUE))
  add_est(nm, svytotal(~enroll, des, deff = TRUE, na.rm = TRUE))
  add_est(nm, svymean(~sch.wide, des, deff = TRUE))
  r <- svyratio(~api00, ~api99, des)
  add(nm, "api00/api99", "estimate", coef(r))
  add(nm, "api00/api99", "se", SE(r))
  b <- svyby(~api00, ~stype, des, svymean, deff = TRUE)
  add(nm, paste0("api00|stype=", b$stype), "estimate", b$api00)
  add(nm, paste0("api00|stype=", b$stype), "se", SE(b))
  add(nm, paste0("api00|stype=", b$stype), "deff", deff(b))
  for (stat in c("F", "Chisq")) {
    t <- svychisq(~sch.wide + stype, des, statistic = stat)
    add(nm, paste0("chisq_", stat), "statistic", t$statistic)
    add(nm, paste0("chisq_", stat), "df1", t$parameter[1])
    add(nm, paste0("chisq_", stat), "df2", if (length(t$parameter) > 1) t$parameter[2] else NA)
    add(nm, paste0("chisq_", stat), "p_value", t$p.value)
  }
}

# --- post-stratification and raking on the one-stage cluster design ----------------------
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
dclus1p <- postStratify(dclus1, ~stype, pop.types)
dclus1r <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide),
                control = list(maxit = 100, epsilon = 1e-10, verbose = FALSE))
for (nm in c("dclus1p", "dclus1r")) {
  des <- get(nm)
  add_est(nm, svymean(~api00, des))
  add_est(nm, svytotal(~enroll, des))
  add_est(nm, svymean(~sch.wide, des))
  add(nm, "weights", "sum", sum(weights(des)))
  add(nm, "weights", "min", min(weights(des)))
  add(nm, "weights", "max", max(weights(des)))
}

# --- lonely PSUs: apistrat with one school moved to a stratum of its own -----------------
lonely <- apistrat
lonely$stype2 <- as.character(lonely$stype)
lonely$stype2[1] <- "X"
lonely$fpc2 <- lonely$fpc
lonely$fpc2[1] <- 100
write.csv(lonely[c("cds", "stype2", "api00", "pw", "fpc2")],
          file.path(out_dir, "apistrat_lonely.csv"), row.names = FALSE)
for (rule in c("adjust", "remove", "certainty", "average")) {
  options(survey.lonely.psu = rule)
  dl <- svydesign(id = ~1, strata = ~stype2, weights = ~pw, data = lonely)
  add_est(paste0("lonely_", rule), svymean(~api00, dl))
}
options(survey.lonely.psu = "fail")

# --- Cronbach's alpha: psych::bfi agreeableness, A1 reversed, complete cases ---------------
data(bfi, package = "psychTools")
agree <- na.omit(bfi[c("A1", "A2", "A3", "A4", "A5")])
agree$A1 <- 7 - agree$A1
write.csv(agree, file.path(out_dir, "bfi_agree.csv"), row.names = FALSE)
a <- psych::alpha(agree)
add("bfi_agree", "alpha", "raw_alpha", a$total$raw_alpha)
add("bfi_agree", "alpha", "std_alpha", a$total$std.alpha)
add("bfi_agree", "alpha", "ase", a$total$ase)
add("bfi_agree", "alpha", "feldt_lower", a$feldt$lower.ci)
add("bfi_agree", "alpha", "feldt_upper", a$feldt$upper.ci)
add("bfi_agree", "alpha", "n", nrow(agree))
for (item in rownames(a$item.stats)) {
  add("bfi_agree", item, "r_drop", a$item.stats[item, "r.drop"])
  add("bfi_agree", item, "alpha_if_deleted", a$alpha.drop[item, "raw_alpha"])
  add("bfi_agree", item, "mean", a$item.stats[item, "mean"])
  add("bfi_agree", item, "sd", a$item.stats[item, "sd"])
}

# --- LMG by brute force over all orderings (swiss) and Johnson's relative weights ---------
data(swiss)
write.csv(cbind(province = rownames(swiss), swiss), file.path(out_dir, "swiss.csv"),
          row.names = FALSE)
lmg_bruteforce <- function(y, X) {
  p <- ncol(X)
  r2 <- function(idx) if (length(idx) == 0) 0 else summary(lm(y ~ ., data = X[idx]))$r.squared
  perms <- function(v) if (length(v) <= 1) list(v) else
    do.call(c, lapply(seq_along(v), function(i) lapply(perms(v[-i]), function(r) c(v[i], r))))
  contrib <- setNames(rep(0, p), names(X))
  orders <- perms(seq_len(p))
  for (o in orders) {
    prev <- 0
    for (k in seq_along(o)) {
      now <- r2(sort(o[1:k]))
      contrib[o[k]] <- contrib[o[k]] + now - prev
      prev <- now
    }
  }
  contrib / length(orders)
}
johnson <- function(y, X) {
  R <- cor(X)
  rxy <- cor(X, y)
  e <- eigen(R, symmetric = TRUE)
  lam <- e$vectors %*% diag(sqrt(e$values)) %*% t(e$vectors)  # R^(1/2)
  beta <- solve(lam, rxy)                                     # weights on orthogonal Z
  raw <- as.vector((lam^2) %*% (beta^2))
  setNames(raw, names(X))
}
X <- swiss[, -1]
lmg <- lmg_bruteforce(swiss$Fertility, X)
jw <- johnson(swiss$Fertility, X)
full <- summary(lm(Fertility ~ ., data = swiss))$r.squared
add("swiss", "R2", "r2", full)
for (v in names(X)) {
  add("swiss", v, "lmg", lmg[v])
  add("swiss", v, "johnson", jw[v])
}

ref <- do.call(rbind, rows)
write.csv(ref, file.path(out_dir, "reference.csv"), row.names = FALSE)
writeLines(capture.output(sessionInfo()), file.path(out_dir, "sessionInfo.txt"))
