# Reference values for tests/test_zph.py: R's cox.zph (survival >= 3.0, transform "km", terms = TRUE, GLOBAL)
# on (1) the paper's SPP model on the bundled synthetic cohort (data/), coded as notebook 06 codes it,
# (2) the time-varying sorafenib model of notebook 07 (counting-process rows, as tests/r/appraisal_bundled.R),
# (3) a textbook dataset: R's `lung` (NCCTG), written once to tests/r/lung.csv.
# Run from the project root:  Rscript tests/r/zph.R
# (R 4.2.2, survival 3.5.3; the values printed here are typed into the test.)
library(survival)
options(digits = 10)
prog <- read.csv("data/progression.csv", stringsAsFactors = FALSE)
pats <- read.csv("data/patients.csv", stringsAsFactors = FALSE)
d <- merge(prog[prog$child_pugh_score <= 8, ], pats[, c("patient_id", "sex", "last_followup_date", "death")],
           by = "patient_id")
month <- 30.4375
d$time <- as.numeric(as.Date(d$last_followup_date) - as.Date(d$progression_date)) / month
d$delay <- as.numeric(as.Date(d$salvage_start_date) - as.Date(d$progression_date)) / month
# notebook 06's coding: 1 = the other level (total bilirubin >= 1.0, no ascites, no sorafenib)
d$tbil <- as.integer(d$total_bilirubin >= 1.0)
d$ascites <- as.integer(d$ascites == "no")
d$sorafenib <- as.integer(d$salvage_treatment != "sorafenib")

cat("# (1) SPP: the paper's model (Efron ties)\n")
fit <- coxph(Surv(time, death) ~ tbil + ascites + sorafenib, data = d)
print(coef(fit))
z <- cox.zph(fit)
print(z$table)
cat("# scaled Schoenfeld residuals, first three deaths (x = transformed time)\n")
print(cbind(x = z$x, z$y)[1:3, ])

cat("# (1b) SPP: one-factor model (sorafenib)\n")
print(cox.zph(coxph(Surv(time, death) ~ sorafenib, data = d))$table)

cat("# (2) time-varying sorafenib (tmerge, tdc), adjusted for bilirubin and ascites\n")
d$sor <- 1L - d$sorafenib
base <- tmerge(d[, c("patient_id", "tbil", "ascites")], d, id = patient_id, tstop = time)
base <- tmerge(base, d, id = patient_id, death = event(time, death))
base <- tmerge(base, d[d$sor == 1, ], id = patient_id, on_sor = tdc(delay))
base$on_sor[is.na(base$on_sor)] <- 0
print(cox.zph(coxph(Surv(tstart, tstop, death) ~ on_sor, data = base))$table)
print(cox.zph(coxph(Surv(tstart, tstop, death) ~ on_sor + tbil + ascites, data = base))$table)

cat("# (3) lung (NCCTG): age + sex + ph.ecog, and ph.ecog as a factor (a 2-df term)\n")
lung2 <- na.omit(lung[, c("time", "status", "age", "sex", "ph.ecog")])
lung2$status <- lung2$status - 1L
lung2 <- lung2[lung2$ph.ecog < 3, ]  # one patient with ECOG 3: a level with a single patient
if (!file.exists("tests/r/lung.csv")) write.csv(lung2, "tests/r/lung.csv", row.names = FALSE)
print(cox.zph(coxph(Surv(time, status) ~ age + sex + ph.ecog, data = lung2))$table)
print(cox.zph(coxph(Surv(time, status) ~ age + sex + factor(ph.ecog), data = lung2))$table)
print(cox.zph(coxph(Surv(time, status) ~ age + sex, data = lung2, ties = "breslow"))$table)
print(cox.zph(coxph(Surv(time, status) ~ age + sex + ph.ecog, data = lung2), transform = "rank")$table)
cat("# (3b) lung, Breslow ties: the coefficients (to feed the same fit to the Python test)\n")
print(coef(coxph(Surv(time, status) ~ age + sex, data = lung2, ties = "breslow")))
