# Reference numbers for crmlib.retention, computed once with R's survival package.
#
#   Rscript tests/data/retention/make_reference.R     (from the repository root)
#
# Writes tests/data/retention/r_reference.csv: one row per number, columns
#   name  (what the number is),  i  (1-based position within that vector),  value.
# The tests read that file; they never run R.
#
# Data: rossi.csv and lung.csv, copied from the lifelines 0.30.3 wheel (MIT), see README.md.
# Derived inputs (entry times, weights, clusters, a split at week 20) are deterministic
# functions of the row number, defined identically in tests/test_retention_*.py.

suppressPackageStartupMessages(library(survival))
here <- "tests/data/retention"
rossi <- read.csv(file.path(here, "rossi.csv"))
lung <- read.csv(file.path(here, "lung.csv"))
n <- nrow(rossi)
idx0 <- seq_len(n) - 1L                       # 0-based row number, as in Python
rossi$entry <- pmin(idx0 %% 5L, rossi$week - 1L)  # left-truncation times, entry < week
rossi$w <- 1 + (idx0 %% 3L)                    # case weights 1, 2, 3
rossi$clus <- idx0 %/% 4L                      # clusters of 4 consecutive rows
rossi$prio_hi <- as.integer(rossi$prio > 3)
rossi$prio3 <- cut(rossi$prio, c(-Inf, 0, 3, Inf), labels = c("0", "1-3", "4+"))

out <- list()
put <- function(name, x) {
  x <- as.numeric(x)
  out[[length(out) + 1L]] <<- data.frame(name = name, i = seq_along(x), value = x)
}
put_km <- function(prefix, fit) {
  put(paste0(prefix, ".time"), fit$time)
  put(paste0(prefix, ".n.risk"), fit$n.risk)
  put(paste0(prefix, ".n.event"), fit$n.event)
  put(paste0(prefix, ".n.censor"), fit$n.censor)
  put(paste0(prefix, ".surv"), fit$surv)
  put(paste0(prefix, ".std.err"), fit$std.err)      # se of log S (Greenwood), as R reports
  put(paste0(prefix, ".lower"), fit$lower)
  put(paste0(prefix, ".upper"), fit$upper)
  put(paste0(prefix, ".cumhaz"), fit$cumhaz)
  put(paste0(prefix, ".std.chaz"), fit$std.chaz)
}

# ---- Kaplan-Meier ---------------------------------------------------------------------
for (ct in c("log-log", "plain", "log")) {
  fit <- survfit(Surv(week, arrest) ~ 1, data = rossi, conf.type = ct)
  put_km(paste0("km.rossi.", ct), fit)
}
fit <- survfit(Surv(week, arrest) ~ 1, data = rossi, conf.type = "log-log")
tab <- summary(fit, rmean = 40)$table
put("km.rossi.rmean40", c(tab[["rmean"]], tab[["se(rmean)"]]))
put("km.rossi.surv_at", summary(fit, times = c(10, 25.5, 52))$surv)

for (g in c(0, 1)) {
  fitg <- survfit(Surv(week, arrest) ~ 1, data = rossi[rossi$fin == g, ],
                  conf.type = "log-log")
  put_km(paste0("km.rossi.fin", g), fitg)
}
# left truncation
fit <- survfit(Surv(entry, week, arrest) ~ 1, data = rossi, conf.type = "log-log")
put_km("km.rossi.entry", fit)
# case weights
fit <- survfit(Surv(week, arrest) ~ 1, data = rossi, weights = w, conf.type = "log-log")
put_km("km.rossi.weights", fit)

# lung: the median is reached (Rossi's is not)
lung$event <- lung$status
for (ct in c("log-log", "plain", "log")) {
  fit <- survfit(Surv(time, event) ~ 1, data = lung, conf.type = ct)
  tab <- summary(fit)$table
  put(paste0("km.lung.median.", ct),
      c(tab[["median"]], tab[["0.95LCL"]], tab[["0.95UCL"]]))
}
fit <- survfit(Surv(time, event) ~ 1, data = lung, conf.type = "log-log")
put_km("km.lung", fit)
tab <- summary(fit, rmean = 500)$table
put("km.lung.rmean500", c(tab[["rmean"]], tab[["se(rmean)"]]))
tab <- summary(survfit(Surv(time, event) ~ sex, data = lung), rmean = 500)$table
put("km.lung.sex.median", tab[, "median"])
put("km.lung.sex.median_lcl", tab[, "0.95LCL"])
put("km.lung.sex.median_ucl", tab[, "0.95UCL"])

# ---- log-rank -------------------------------------------------------------------------
lr <- function(name, ...) {
  d <- survdiff(...)
  df <- sum(d$n > 0) - 1L
  if (!is.null(d$strata)) df <- nrow(d$obs) - 1L
  put(name, c(d$chisq, df, pchisq(d$chisq, df, lower.tail = FALSE)))
}
lr("lr.fin.rho0", Surv(week, arrest) ~ fin, data = rossi)
lr("lr.fin.rho1", Surv(week, arrest) ~ fin, data = rossi, rho = 1)
lr("lr.priohi.rho0", Surv(week, arrest) ~ prio_hi, data = rossi)
lr("lr.priohi.rho1", Surv(week, arrest) ~ prio_hi, data = rossi, rho = 1)
lr("lr.prio3.rho0", Surv(week, arrest) ~ prio3, data = rossi)
lr("lr.prio3.rho1", Surv(week, arrest) ~ prio3, data = rossi, rho = 1)
lr("lr.prio3.rho0.5", Surv(week, arrest) ~ prio3, data = rossi, rho = 0.5)
lr("lr.fin.strata_wexp", Surv(week, arrest) ~ fin + strata(wexp), data = rossi)
lr("lr.prio3.strata_wexp.rho1", Surv(week, arrest) ~ prio3 + strata(wexp), data = rossi,
   rho = 1)
d <- survdiff(Surv(week, arrest) ~ fin, data = rossi)
put("lr.fin.obs", d$obs)
put("lr.fin.exp", d$exp)

# ---- Cox ------------------------------------------------------------------------------
f <- Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio
put_cox <- function(prefix, fit) {
  put(paste0(prefix, ".coef"), coef(fit))
  put(paste0(prefix, ".se"), sqrt(diag(vcov(fit))))
  put(paste0(prefix, ".vcov"), as.vector(vcov(fit)))
  put(paste0(prefix, ".loglik"), fit$loglik)
  put(paste0(prefix, ".concordance"), fit$concordance[c("concordance", "std")])
  s <- summary(fit)
  put(paste0(prefix, ".logtest"), s$logtest)
  put(paste0(prefix, ".waldtest"), s$waldtest)            # statistic rounded to 2 decimals
  put(paste0(prefix, ".wald.test"), fit$wald.test)       # unrounded
  put(paste0(prefix, ".sctest"), s$sctest)
  if (!is.null(fit$naive.var)) put(paste0(prefix, ".naive.se"), sqrt(diag(fit$naive.var)))
  if (!is.null(s$robscore)) put(paste0(prefix, ".robscore"), s$robscore)
}
efron <- coxph(f, data = rossi, ties = "efron")
put_cox("cox.efron", efron)
cc <- concordance(efron)
put("cox.efron.concordance_fn", c(cc$concordance, sqrt(cc$var)))
put("cox.efron.conf.int", as.vector(summary(efron)$conf.int))  # exp(coef), exp(-coef), lo, hi
z <- cox.zph(efron)                                             # transform = "km"
put("cox.efron.zph.km", as.vector(z$table))                     # chisq, df, p by row; GLOBAL last
put("cox.efron.zph.km.y1", z$y[, 1])
put("cox.efron.zph.km.x", z$x)
z <- cox.zph(efron, transform = "identity")
put("cox.efron.zph.identity", as.vector(z$table))
z <- cox.zph(efron, transform = "rank")
put("cox.efron.zph.rank", as.vector(z$table))
bh <- basehaz(efron, centered = FALSE)
put("cox.efron.basehaz.time", bh$time)
put("cox.efron.basehaz.hazard", bh$hazard)
prof <- data.frame(fin = c(0, 1), age = c(20, 30), race = c(1, 0), wexp = c(0, 1),
                   mar = c(0, 1), paro = c(1, 1), prio = c(5, 1))
sf <- survfit(efron, newdata = prof)
sm <- summary(sf, times = c(10, 30, 52))
put("cox.efron.predsurv", as.vector(sm$surv))                   # times x profiles, column-major

breslow <- coxph(f, data = rossi, ties = "breslow")
put_cox("cox.breslow", breslow)

rob <- coxph(f, data = rossi, ties = "efron", robust = TRUE)
put_cox("cox.robust", rob)
cl <- coxph(f, data = rossi, ties = "efron", cluster = clus)
put_cox("cox.cluster", cl)

st <- coxph(Surv(week, arrest) ~ fin + age + prio + strata(wexp), data = rossi)
put_cox("cox.strata", st)
st2 <- coxph(Surv(week, arrest) ~ fin + age + prio + strata(wexp, mar), data = rossi)
put_cox("cox.strata2", st2)
put("cox.strata.zph", as.vector(cox.zph(st)$table))

tr <- coxph(Surv(entry, week, arrest) ~ fin + age + race + wexp + mar + paro + prio,
            data = rossi)
put_cox("cox.entry", tr)

wt <- coxph(f, data = rossi, weights = w)
put_cox("cox.weights", wt)

# counting process: split at week 20 and give the late interval its own prio effect
sp <- survSplit(Surv(week, arrest) ~ ., data = rossi, cut = 20, episode = "ep",
                start = "tstart")
sp$prio_late <- sp$prio * as.integer(sp$tstart >= 20)
tv <- coxph(Surv(tstart, week, arrest) ~ fin + age + prio + prio_late, data = sp)
put_cox("cox.tv", tv)
split_same <- coxph(Surv(tstart, week, arrest) ~ fin + age + race + wexp + mar + paro + prio,
                    data = sp)
put_cox("cox.split", split_same)

res <- do.call(rbind, out)
res$value <- sprintf("%.17g", res$value)
write.csv(res, file.path(here, "r_reference.csv"), row.names = FALSE, quote = FALSE)
writeLines(c(R.version.string, paste("survival", packageVersion("survival"))),
           file.path(here, "r_session.txt"))
