# Reference values for glmkit's QuasiPoisson and QuasiBinomial: R 4.2's glm with
# quasipoisson() and quasibinomial(). Run from this folder: Rscript make_reference.R
library(MASS)
library(jsonlite)
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
one <- function(fit) {
  s <- summary(fit)
  list(coefficients = unname(coef(fit)), bse = unname(s$coefficients[, 2]),
       tvalues = unname(s$coefficients[, 3]), pvalues = unname(s$coefficients[, 4]),
       dispersion = s$dispersion, deviance = fit$deviance, df_residual = fit$df.residual,
       aic_is_na = is.na(AIC(fit)), rstudent = unname(rstudent(fit)),
       rstandard = unname(rstandard(fit)), cooks = unname(cooks.distance(fit)))
}
write.csv(quine, "data_quine.csv", row.names = FALSE)
qp <- glm(Days ~ Eth + Sex + Age + Lrn, quasipoisson, data = quine, control = ctl)
bw <- with(birthwt, data.frame(low = low, age = age, lwt = lwt, smoke = smoke))
write.csv(bw, "data_birthwt.csv", row.names = FALSE)
qb <- glm(low ~ age + lwt + smoke, quasibinomial, data = bw, control = ctl)
out <- list(quasipoisson = one(qp), quasibinomial = one(qb),
            anova_qp_f = list(F = anova(qp, test = "F")[["F"]], p = anova(qp, test = "F")[["Pr(>F)"]]))
write_json(out, "ref_quasi.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
