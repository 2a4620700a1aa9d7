#!/usr/bin/env Rscript
## Reference values for glmkit's formula interface (tests/test_formula.py).
##
## Run from this folder:   Rscript make_reference.R
##
## Same conventions as tests/reference/core/make_reference.R:
##   * every case simulates its data with its own set.seed(), writes
##     data_<case>.csv (and newdata_<case>.csv), reads the CSV back and fits
##     exactly what the CSV holds;
##   * the fit is "polished": glm.control(epsilon = 1e-12, maxit = 200), then
##     IRLS restarts from the previous coefficients until
##     max |b_new - b_old| / (|b_old| + 1e-10) < 1e-13;
##   * ref_<case>.json is written with jsonlite::toJSON(digits = NA).
##
## Each case holds R's formula and the glmkit formula meant to be the same model
## (`formula_r`, `formula_py`). R's coefficient names differ from formulaic's, so
## `params`/`bse` are arrays in R's column order, which is also formulaic's order
## (terms by degree, main effects in the order written; treatment coding).
## anova(fit, test = "Chisq") refits the sequential sub-models with the fit's
## control (epsilon = 1e-12).

suppressPackageStartupMessages({
  library(stats)
  library(jsonlite)
})

TIGHT <- glm.control(epsilon = 1e-12, maxit = 200)
POLISH_RTOL <- 1e-13

fit_polished <- function(formula, family, data, ...) {
  fit <- glm(formula, family = family, data = data, control = TIGHT, ...)
  steps <- 0L
  repeat {
    b <- coef(fit)
    fit <- glm(formula, family = family, data = data, control = TIGHT, start = unname(b), ...)
    steps <- steps + fit$iter
    if (max(abs(coef(fit) - b) / (abs(b) + 1e-10)) < POLISH_RTOL) break
    if (steps > 1000) stop("polishing did not settle")
  }
  stopifnot(fit$converged)
  fit
}

anova_list <- function(fit, test) {
  a <- anova(fit, test = test)
  out <- list(terms = I(rownames(a)),
              df = unname(a$Df), deviance = unname(a$Deviance),
              resid_df = unname(a[["Resid. Df"]]), resid_dev = unname(a[["Resid. Dev"]]))
  if (test == "Chisq") out$p_value <- unname(a[["Pr(>Chi)"]])
  if (test == "F") { out$F <- unname(a$F); out$p_value <- unname(a[["Pr(>F)"]]) }
  out
}

fit_list <- function(fit) {
  s <- summary(fit)
  list(
    r_coef_names = I(names(coef(fit))),
    params = I(unname(coef(fit))),
    bse = I(unname(sqrt(diag(vcov(fit))))),
    deviance = fit$deviance,
    null_deviance = fit$null.deviance,
    df_residual = fit$df.residual,
    dispersion = s$dispersion,
    nobs = length(fit$y)
  )
}

pred_list <- function(fit, newdata) {
  pl <- predict(fit, newdata = newdata, type = "link", se.fit = TRUE)
  pr <- predict(fit, newdata = newdata, type = "response", se.fit = TRUE)
  list(link = I(unname(pl$fit)), se_link = I(unname(pl$se.fit)),
       response = I(unname(pr$fit)), se_response = I(unname(pr$se.fit)))
}

write_ref <- function(x, file) {
  writeLines(toJSON(x, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null",
                    na = "null"), file)
}

versions <- list(R = paste(R.version$major, R.version$minor, sep = "."),
                 jsonlite = as.character(packageVersion("jsonlite")))

## --- 1. Poisson: factor with a chosen reference level, factor x numeric ------
##        interaction, a transform, and an offset inside the formula
set.seed(401)
n <- 240
d <- data.frame(region = sample(c("a", "b", "c", "d"), n, replace = TRUE),
                x = round(rnorm(n), 4),
                z = round(runif(n, 0.5, 3), 4),
                t = round(runif(n, 1, 10), 3))
eff <- c(a = -0.3, b = 0, c = 0.25, d = 0.4)
slope <- c(a = 0.1, b = 0.3, c = 0.5, d = 0.2)
eta <- log(d$t) - 0.5 + eff[d$region] + slope[d$region] * d$x + 0.4 * log(d$z)
d$y <- rpois(n, exp(eta))
write.csv(d, "data_poisson_factor_offset.csv", row.names = FALSE)
nd <- data.frame(region = c("a", "b", "c", "d", "b", "d"),
                 x = c(-1, 0, 0.5, 1.2, -0.3, 0),
                 z = c(1, 2, 0.7, 2.5, 1.5, 1),
                 t = c(1, 2, 5, 10, 3.5, 1))
write.csv(nd, "newdata_poisson_factor_offset.csv", row.names = FALSE)
d <- read.csv("data_poisson_factor_offset.csv")
nd <- read.csv("newdata_poisson_factor_offset.csv")
f_r <- y ~ relevel(factor(region), ref = "b") * x + log(z) + offset(log(t))
fit <- fit_polished(f_r, poisson(), d)
write_ref(c(list(case = "poisson_factor_offset", family = "poisson", link = "log",
                 data_file = "data_poisson_factor_offset.csv",
                 newdata_file = "newdata_poisson_factor_offset.csv",
                 formula_r = deparse(f_r),
                 formula_py = "y ~ C(region, Treatment('b')) * x + np.log(z) + offset(np.log(t))",
                 versions = versions),
            fit_list(fit),
            list(anova_chisq = anova_list(fit, "Chisq"), predict = pred_list(fit, nd))),
          "ref_poisson_factor_offset.json")

## --- 2. binomial with a two-column response cbind(s, m - s), two factors ------
##        and their interaction
set.seed(402)
n <- 150
d <- data.frame(g = sample(c("a", "b", "c"), n, replace = TRUE),
                h = sample(c("u", "v"), n, replace = TRUE),
                x = round(rnorm(n), 4),
                m = sample(5:25, n, replace = TRUE))
eta <- -0.2 + c(a = 0, b = 0.5, c = -0.4)[d$g] + c(u = 0, v = 0.3)[d$h] +
  ifelse(d$g == "c" & d$h == "v", 0.6, 0) + 0.7 * d$x
d$s <- rbinom(n, d$m, plogis(eta))
write.csv(d, "data_binomial_cbind.csv", row.names = FALSE)
d <- read.csv("data_binomial_cbind.csv")
f_r <- cbind(s, m - s) ~ g * h + x
fit <- fit_polished(f_r, binomial(), d)
write_ref(c(list(case = "binomial_cbind", family = "binomial", link = "logit",
                 data_file = "data_binomial_cbind.csv",
                 formula_r = deparse(f_r), formula_py = "cbind(s, m - s) ~ g * h + x",
                 versions = versions),
            fit_list(fit),
            list(anova_chisq = anova_list(fit, "Chisq"))),
          "ref_binomial_cbind.json")

## --- 3. Gamma (log link): numeric interaction and transforms -----------------
set.seed(403)
n <- 120
d <- data.frame(x1 = round(runif(n, -1, 1), 4),
                x2 = round(rnorm(n), 4),
                x3 = round(runif(n, 0.5, 4), 4))
mu <- exp(1 + 0.4 * d$x1 - 0.3 * d$x2 + 0.2 * d$x1 * d$x2 + 0.3 * d$x1^2 + 0.5 * log(d$x3))
d$y <- signif(rgamma(n, shape = 4, scale = mu / 4), 7)
write.csv(d, "data_gamma_transforms.csv", row.names = FALSE)
d <- read.csv("data_gamma_transforms.csv")
f_r <- y ~ x1 * x2 + I(x1^2) + log(x3)
fit <- fit_polished(f_r, Gamma("log"), d)
write_ref(c(list(case = "gamma_transforms", family = "gamma", link = "log",
                 data_file = "data_gamma_transforms.csv",
                 formula_r = deparse(f_r),
                 formula_py = "y ~ x1 * x2 + I(x1**2) + np.log(x3)",
                 versions = versions),
            fit_list(fit),
            list(anova_chisq = anova_list(fit, "Chisq"), anova_f = anova_list(fit, "F"))),
          "ref_gamma_transforms.json")

## --- 4. Gaussian, no intercept, missing values --------------------------------
##        na.action = na.exclude keeps the rows (NA residuals) so that per-row
##        values can be matched to the CSV rows. Level "d" of f occurs only in a
##        row whose x is missing: model.frame(drop.unused.levels = TRUE) drops it.
set.seed(404)
n <- 60
d <- data.frame(f = sample(c("a", "b", "c"), n, replace = TRUE),
                x = round(rnorm(n), 4))
d$y <- round(c(a = 1, b = 2, c = -1)[d$f] + 0.8 * d$x + rnorm(n, sd = 0.5), 6)
d$f[7] <- "d"
d$x[c(7, 12, 30)] <- NA
d$f[c(41)] <- NA
d$y[c(50, 55)] <- NA
write.csv(d, "data_gaussian_missing.csv", row.names = FALSE)
d <- read.csv("data_gaussian_missing.csv")
f_r <- y ~ 0 + f + x
fit <- fit_polished(f_r, gaussian(), d, na.action = na.exclude)
write_ref(c(list(case = "gaussian_missing", family = "gaussian", link = "identity",
                 data_file = "data_gaussian_missing.csv",
                 formula_r = deparse(f_r), formula_py = "y ~ 0 + f + x",
                 versions = versions),
            fit_list(fit),
            list(n_dropped = sum(!complete.cases(d[, c("y", "f", "x")])),
                 fitted = I(unname(fitted(fit))),          # NA in dropped rows
                 resid_response = I(unname(residuals(fit, "response"))))),
          "ref_gaussian_missing.json")

cat(R.version.string, "\n")
