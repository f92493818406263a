# Reference values for tests/test_competing_risks.py: R's survfit on a multi-state outcome (Aalen-Johansen
# cumulative incidence; its default variance, the infinitesimal jackknife, and its default "log" intervals)
# from the first HAIC session: progression versus death without progression, on the bundled synthetic cohort,
# and on a textbook dataset (R's `mgus2`: progression to plasma-cell malignancy vs death without it).
# Run from the project root:  Rscript tests/r/competing_risks.R
# (R 4.2.2, survival 3.5.3; the values printed here are typed into the test.)
library(survival)
options(digits = 10)
pats <- read.csv("data/patients.csv", stringsAsFactors = FALSE)
prog <- read.csv("data/progression.csv", stringsAsFactors = FALSE)
d <- merge(pats[, c("patient_id", "first_haic_date", "last_followup_date", "death")],
           prog[, c("patient_id", "progression_date")], by = "patient_id", all.x = TRUE)
month <- 30.4375
progressed <- !is.na(d$progression_date)
end <- ifelse(progressed, d$progression_date, d$last_followup_date)
d$time <- as.numeric(as.Date(end) - as.Date(d$first_haic_date)) / month
d$status <- ifelse(progressed, 1L, ifelse(d$death == 1, 2L, 0L))
d$event <- factor(d$status, 0:2, c("censored", "progression", "death_without_progression"))
print(table(d$event))
fit <- survfit(Surv(time, event) ~ 1, data = d)
s <- summary(fit, times = c(3, 6, 12, 24))
print(cbind(months = s$time, cif = s$pstate[, 2:3], lower = s$lower[, 2:3], upper = s$upper[, 2:3]))
cat("# 1 - Kaplan-Meier of progression (deaths censored), log-log limits as lifelines\n")
km <- summary(survfit(Surv(time, status == 1) ~ 1, data = d, conf.type = "log-log"), times = c(3, 6, 12, 24))
print(cbind(months = km$time, one_minus_km = 1 - km$surv, lower = 1 - km$upper, upper = 1 - km$lower))

cat("# mgus2: time to progression or death (months), 'pstat' then death\n")
m <- mgus2
m$etime <- ifelse(m$pstat == 1, m$ptime, m$futime)
m$status <- ifelse(m$pstat == 1, 1L, 2L * m$death)
m <- m[, c("etime", "status")]
if (!file.exists("tests/r/mgus2.csv")) write.csv(m, "tests/r/mgus2.csv", row.names = FALSE)
m$event <- factor(m$status, 0:2, c("censored", "progression", "death"))
s <- summary(survfit(Surv(etime, event) ~ 1, data = m), times = c(12, 60, 120, 240))
print(cbind(months = s$time, cif = s$pstate[, 2:3], lower = s$lower[, 2:3], upper = s$upper[, 2:3]))
