# Reference numbers for crmlib.survey.item_factors (maximum-likelihood factor analysis),
# computed once and committed.
#
# Run from the repository root:  Rscript tests/data/survey/make_factor_reference.R
# Needs (Debian bookworm): r-base-core 4.2.2 (stats::factanal, stats::varimax,
# stats::promax), r-cran-psychtools (the bfi data).
#
# Writes, next to this script:
#   bfi_ac.csv                bfi items A1-A5 and C1-C5 as given (no reversal), complete cases
#   factor_reference.csv      case, item, factor, stat, value (15 significant digits)
#
# Cases: factanal(x, factors = 2, rotation = r) for r in none, varimax, promax (R's defaults:
# varimax(normalize = TRUE, eps = 1e-5); promax(m = 4)), each with loadings (stat
# "loading", factor 1..2, in R's column order) and uniquenesses (stat "uniqueness",
# factor 0), and the model's likelihood-ratio statistic, dof and p value (item "", factor 0).

suppressPackageStartupMessages(library(psychTools))
out_dir <- "tests/data/survey"
data(bfi, package = "psychTools")
items <- c(paste0("A", 1:5), paste0("C", 1:5))
ac <- na.omit(bfi[items])
rownames(ac) <- NULL
write.csv(ac, file.path(out_dir, "bfi_ac.csv"), row.names = FALSE)

rows <- list()
add <- function(case, item, factor, stat, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, item = item, factor = factor,
                                          stat = stat,
                                          value = sprintf("%.15g", as.numeric(value)))
}
for (rot in c("none", "varimax", "promax")) {
  fit <- factanal(ac, factors = 2, rotation = rot)
  case <- paste0("bfi_ac_", rot)
  L <- unclass(fit$loadings)
  for (j in seq_len(ncol(L))) {
    for (i in seq_len(nrow(L))) add(case, rownames(L)[i], j, "loading", L[i, j])
  }
  for (i in seq_along(fit$uniquenesses)) {
    add(case, names(fit$uniquenesses)[i], 0, "uniqueness", fit$uniquenesses[i])
  }
  add(case, "", 0, "n_obs", fit$n.obs)
  add(case, "", 0, "statistic", fit$STATISTIC)
  add(case, "", 0, "dof", fit$dof)
  add(case, "", 0, "p_value", fit$PVAL)
  add(case, "", 0, "converged", fit$converged)
}

# R's varimax stops when the criterion improves by less than eps = 1e-5 (relative), which on
# these data leaves the loadings ~3e-3 from the varimax optimum. The same rotations run to
# convergence (eps = 1e-12), from the unrotated ML loadings above; promax is stats::promax's
# code with that varimax. Factor correlations as print.factanal: solve(rotmat) %*% t(.).
L0 <- loadings(factanal(ac, factors = 2, rotation = "none"))
vx <- varimax(L0, eps = 1e-12)
Lv <- unclass(vx$loadings)
for (j in 1:2) for (i in seq_len(nrow(Lv))) {
  add("bfi_ac_varimax_converged", rownames(Lv)[i], j, "loading", Lv[i, j])
}
m <- 4
Q <- Lv * abs(Lv)^(m - 1)
U <- lm.fit(Lv, Q)$coefficients
d <- diag(solve(t(U) %*% U))
U <- U %*% diag(sqrt(d))
Lp <- Lv %*% U
rotmat <- vx$rotmat %*% U
for (j in 1:2) for (i in seq_len(nrow(Lp))) {
  add("bfi_ac_promax_converged", rownames(Lv)[i], j, "loading", Lp[i, j])
}
tmat <- solve(rotmat)
phi <- tmat %*% t(tmat)
add("bfi_ac_promax_converged", "", 0, "factor_corr", phi[1, 2])
tmat <- solve(factanal(ac, factors = 2, rotation = "promax")$rotmat)
add("bfi_ac_promax", "", 0, "factor_corr", (tmat %*% t(tmat))[1, 2])

out <- do.call(rbind, rows)
write.csv(out, file.path(out_dir, "factor_reference.csv"), row.names = FALSE)
