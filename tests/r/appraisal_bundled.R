# Reference values for tests/test_appraisal.py::test_bundled_data_agree_with_r, computed with R's
# survival package on the bundled synthetic cohort (data/), independently of src/stats/appraisal.py.
# Run from the project root:  Rscript tests/r/appraisal_bundled.R
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
d$sor <- as.integer(d$salvage_treatment == "sorafenib")
d$tbil_hi <- as.integer(d$total_bilirubin >= 1.0)
d$no_ascites <- as.integer(d$ascites == "no")
d$no_sor <- 1L - d$sor

cat("# follow-up: reverse Kaplan-Meier medians (sorafenib, other)\n")
print(survfit(Surv(time, 1 - death) ~ sor, data = d, conf.type = "log-log"))

cat("# time-varying sorafenib: tmerge, coxph (Efron)\n")
base <- tmerge(d[, c("patient_id", "tbil_hi", "no_ascites")], d, id = patient_id, tstop = time)
base <- tmerge(base, d, id = patient_id, death = event(time, death))
starts <- d[d$sor == 1, ]
base <- tmerge(base, starts, id = patient_id, on_sor = tdc(delay))
base$on_sor[is.na(base$on_sor)] <- 0
f1 <- coxph(Surv(tstart, tstop, death) ~ on_sor, data = base)
f2 <- coxph(Surv(tstart, tstop, death) ~ on_sor + tbil_hi + no_ascites, data = base)
print(summary(f1)$conf.int); print(summary(f1)$coefficients)
print(summary(f2)$conf.int); print(summary(f2)$coefficients)

cat("# landmark at 30 days\n")
lm <- d[d$time > 30 / month, ]
lm$lm_time <- lm$time - 30 / month
lm$lm_sor <- as.integer(lm$sor == 1 & lm$delay <= 30 / month)
s <- survdiff(Surv(lm_time, death) ~ lm_sor, data = lm); print(nrow(lm)); print(1 - pchisq(s$chisq, 1))

cat("# era: salvage from 2009-01-01\n")
era <- d[as.Date(d$salvage_start_date) >= as.Date("2009-01-01"), ]
s <- survdiff(Surv(time, death) ~ sor, data = era); print(nrow(era)); print(1 - pchisq(s$chisq, 1))
cat("# sorafenib vs best supportive care; vs active options\n")
b <- d[d$sor == 1 | d$salvage_treatment == "bsc", ]
s <- survdiff(Surv(time, death) ~ sor, data = b); print(nrow(b)); print(1 - pchisq(s$chisq, 1))
a <- d[d$sor == 1 | d$salvage_treatment %in% c("haic", "uft"), ]
s <- survdiff(Surv(time, death) ~ sor, data = a); print(nrow(a)); print(1 - pchisq(s$chisq, 1))

cat("# RMST up to 12 months: rmean and se(rmean) per group, difference by hand\n")
fit <- survfit(Surv(time, death) ~ sor, data = d)
tab <- summary(fit, rmean = 12)$table; print(tab[, c("rmean", "se(rmean)")])
diff <- tab["sor=1", "rmean"] - tab["sor=0", "rmean"]
se <- sqrt(tab["sor=1", "se(rmean)"]^2 + tab["sor=0", "se(rmean)"]^2)
print(c(diff = diff, low = diff - qnorm(0.975) * se, high = diff + qnorm(0.975) * se, p = 2 * pnorm(-abs(diff / se))))

cat("# paper's model: Wald and likelihood-ratio p of sorafenib; E-values of HR (no sorafenib vs sorafenib)\n")
full <- coxph(Surv(time, death) ~ tbil_hi + no_ascites + no_sor, data = d)
red <- coxph(Surv(time, death) ~ tbil_hi + no_ascites, data = d)
print(summary(full)$coefficients["no_sor", ]); print(anova(red, full))
ci <- summary(full)$conf.int["no_sor", ]
ev <- function(rr) { rr <- ifelse(rr < 1, 1 / rr, rr); rr + sqrt(rr * (rr - 1)) }
common <- function(hr) (1 - 0.5^sqrt(hr)) / (1 - 0.5^sqrt(1 / hr))
print(c(hr = ev(ci[["exp(coef)"]]), ci = ev(ci[["lower .95"]]),
        hr_common = ev(common(ci[["exp(coef)"]])), ci_common = ev(common(ci[["lower .95"]]))))

cat("# univariate log-rank p of the 14 factors, Holm and BH\n")
f <- list(age = d$age >= 70, sex = d$sex, ps = d$ecog_ps >= 1, plt = d$platelets >= 12.5, alb = d$albumin >= 3.8,
          tbil = d$total_bilirubin >= 1.0, pt = d$prothrombin_activity >= 94, alt = d$alt >= 50, ast = d$ast >= 84,
          afp = d$afp >= 2000, dcp = d$dcp >= 1800, ascites = d$ascites, pvtt = d$pvtt, sorafenib = d$sor)
p <- sapply(f, function(x) { s <- survdiff(Surv(d$time, d$death) ~ x); 1 - pchisq(s$chisq, 1) })
print(cbind(p = p, holm = p.adjust(p, "holm"), bh = p.adjust(p, "BH")))

cat("# standardised mean differences (sorafenib vs other), by formula\n")
smd_c <- function(x) { a <- x[d$sor == 1]; b <- x[d$sor == 0]
  abs(mean(a, na.rm = TRUE) - mean(b, na.rm = TRUE)) / sqrt((var(a, na.rm = TRUE) + var(b, na.rm = TRUE)) / 2) }
smd_b <- function(x) { a <- mean(x[d$sor == 1], na.rm = TRUE); b <- mean(x[d$sor == 0], na.rm = TRUE)
  abs(a - b) / sqrt((a * (1 - a) + b * (1 - b)) / 2) }
print(c(age = smd_c(d$age), alt = smd_c(d$alt), ast = smd_c(d$ast), tbil = smd_c(d$total_bilirubin),
        alb = smd_c(d$albumin), pt = smd_c(d$prothrombin_activity), plt = smd_c(d$platelets),
        afp = smd_c(d$afp), dcp = smd_c(d$dcp)))
print(c(sex = smd_b(d$sex == "M"), ps = smd_b(d$ecog_ps >= 1), ascites = smd_b(d$ascites == "yes"),
        pvtt = smd_b(d$pvtt == "yes"), distribution = smd_b(d$tumor_distribution == "unilateral"),
        tumor_count = smd_b(d$tumor_count >= 4), tumor_size = smd_b(d$max_tumor_size_mm >= 50),
        era = smd_b(as.Date(d$salvage_start_date) >= as.Date("2009-01-01"))))
