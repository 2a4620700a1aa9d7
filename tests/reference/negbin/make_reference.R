# Reference values for glmkit.glm_nb: MASS::glm.nb (R 4.2, MASS from Debian's packages).
# Run from this folder: Rscript make_reference.R
# Tight control (epsilon 1e-13) so the coefficients are those of the joint maximum of
# (beta, theta) to ~1e-10; with MASS's default epsilon (1e-8) they are also written down.
library(MASS)
library(jsonlite)

one <- function(fit) {
  s <- summary(fit)
  list(
    coefficients = unname(coef(fit)), names = names(coef(fit)),
    bse = unname(s$coefficients[, 2]),
    theta = fit$theta, SE_theta = fit$SE.theta, twologlik = fit$twologlik,
    deviance = fit$deviance, null_deviance = fit$null.deviance,
    df_residual = fit$df.residual, aic = fit$aic, AIC = AIC(fit), BIC = BIC(fit),
    logLik = as.numeric(logLik(fit)),
    fitted = unname(fitted(fit))
  )
}
tight <- glm.control(epsilon = 1e-13, maxit = 100)

write.csv(quine, "data_quine.csv", row.names = FALSE)
q1 <- glm.nb(Days ~ Sex/(Age + Eth*Lrn), data = quine, control = tight)
q0 <- glm.nb(Days ~ Sex + Eth, data = quine, control = tight)
qdef <- glm.nb(Days ~ Sex/(Age + Eth*Lrn), data = quine)
qsqrt <- glm.nb(Days ~ Eth + Lrn, data = quine, link = sqrt, control = tight)

set.seed(7)
n <- 400
d <- data.frame(x = rnorm(n), g = factor(sample(c("a", "b", "c"), n, TRUE)),
                t = runif(n, 0.5, 3), w = sample(1:3, n, TRUE))
mu <- exp(0.3 + 0.5 * d$x + c(a = 0, b = 0.4, c = -0.3)[as.character(d$g)]) * d$t
d$y <- rnbinom(n, size = 1.7, mu = mu)
write.csv(d, "data_offset_weights.csv", row.names = FALSE)
ow <- glm.nb(y ~ x + g + offset(log(t)), data = d, weights = w, control = tight)

a <- anova(q0, q1)
out <- list(
  quine_full = one(q1), quine_small = one(q0), quine_default_control = one(qdef),
  quine_sqrt = one(qsqrt), offset_weights = one(ow),
  anova = list(theta = a$theta, resid_df = a[["Resid. df"]], twologlik = a[["   2 x log-lik."]],
               df = a[["   df"]], LR = a[["LR stat."]], p = a[["Pr(Chi)"]])
)
write_json(out, "ref_glm_nb.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
