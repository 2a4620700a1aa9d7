# Reference values for glmkit's fit(method='firth'): brglm2 0.9 (Debian's package),
# glm(..., method = "brglmFit", type = "AS_mean"), R 4.2. Run: Rscript make_reference.R
library(brglm2)
library(MASS)
library(jsonlite)
ctl <- brglmControl(type = "AS_mean", epsilon = 1e-14, maxit = 500)
one <- function(fit) {
  s <- summary(fit)
  list(coefficients = unname(coef(fit)), bse = unname(s$coefficients[, 2]),
       deviance = fit$deviance, fitted = unname(fitted(fit)), dispersion = s$dispersion)
}
# complete separation: x > 0 predicts y = 1 exactly (glm's estimates diverge)
sep <- data.frame(x = c(-3, -2.2, -1.5, -1, -0.4, 0.3, 0.8, 1.1, 1.9, 2.5, 3.1, -0.7),
                  z = c(1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0))
sep$y <- as.numeric(sep$x > 0)
write.csv(sep, "data_separated.csv", row.names = FALSE)
bw <- with(birthwt, data.frame(low = low, age = age, lwt = lwt, smoke = smoke, ht = ht))
write.csv(bw, "data_birthwt.csv", row.names = FALSE)
set.seed(3)
n <- 200
d <- data.frame(x = rnorm(n), t = runif(n, 1, 4))
d$y <- rpois(n, exp(-1 + 0.6 * d$x) * d$t)
d$s <- rbinom(n, 5, plogis(-0.5 + d$x))
write.csv(d, "data_counts.csv", row.names = FALSE)
# families with a dispersion: brglm2 estimates it by its own adjusted score (AS_mean)
set.seed(5)
g <- data.frame(x = rnorm(60), f = rbinom(60, 1, 0.5), w = rep(c(1, 2, 0.5), 20))
g$y <- rgamma(60, shape = 3, rate = 3 / exp(0.5 + 0.4 * g$x - 0.3 * g$f))
g$ig <- statmod::rinvgauss(60, mean = exp(0.3 + 0.2 * g$x), dispersion = 0.4)
g$yn <- 1 + 0.5 * g$x - 0.7 * g$f + rnorm(60)
write.csv(g, "data_dispersion.csv", row.names = FALSE)
out <- list(
  gamma_log = one(glm(y ~ x + f, Gamma("log"), data = g, method = "brglmFit", control = ctl)),
  gamma_inverse_weights = one(glm(y ~ x + f, Gamma(), weights = w, data = g, method = "brglmFit", control = ctl)),
  gaussian = one(glm(yn ~ x + f, gaussian, data = g, method = "brglmFit", control = ctl)),
  invgauss_log = one(glm(ig ~ x, inverse.gaussian("log"), data = g, method = "brglmFit", control = ctl)),
  logit_separated = one(glm(y ~ x + z, binomial, data = sep, method = "brglmFit", control = ctl)),
  logit_birthwt = one(glm(low ~ age + lwt + smoke + ht, binomial, data = bw, method = "brglmFit", control = ctl)),
  probit_birthwt = one(glm(low ~ age + lwt + smoke + ht, binomial(link = "probit"), data = bw, method = "brglmFit", control = ctl)),
  cloglog_separated = one(glm(y ~ x + z, binomial(link = "cloglog"), data = sep, method = "brglmFit", control = ctl)),
  poisson_offset = one(glm(y ~ x + offset(log(t)), poisson, data = d, method = "brglmFit", control = ctl)),
  binomial_trials = one(glm(cbind(s, 5 - s) ~ x, binomial, data = d, method = "brglmFit", control = ctl))
)
write_json(out, "ref_firth.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
