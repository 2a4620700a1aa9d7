#!/usr/bin/env Rscript
## Reference values for glmkit's core GLM tests.
##
## Run from this folder:   Rscript make_reference.R
##
## For every case this script
##   * simulates a small data set (fixed seed per case) and writes data_<case>.csv,
##   * reads the CSV back, so R fits exactly the numbers the Python side will read,
##   * fits glm() twice: with a tight control (epsilon = 1e-12, maxit = 200) and
##     with R's default control (epsilon = 1e-8, maxit = 25),
##   * writes ref_<case>.json with the tight-fit results (plus the default-control
##     coefficients),
##   * for the frequency-weight cases, fits the expanded data (each row repeated
##     fw times) and writes ref_<case>_freq.json.
## Finally it prints a table of max |params_tight - params_default| / |params_tight|.

suppressPackageStartupMessages({
  library(stats)
  library(MASS)      # negative.binomial()
  library(statmod)   # tweedie(), rinvgauss()
  library(jsonlite)
})

TIGHT   <- glm.control(epsilon = 1e-12, maxit = 200)
DEFAULT <- glm.control()

## ---------------------------------------------------------------------------
## helpers for simulating data
## ---------------------------------------------------------------------------

## Covariates rounded to 4 decimals so the CSV holds them exactly.
## kind = "normal": x1 ~ N(0,1), x2 ~ U(-1,1), x3 ~ Bernoulli(0.4)
## kind = "positive": x1 ~ U(0,2), x2 ~ U(-1,1), x3 ~ Bernoulli(0.4)
##   (bounded covariates for links that need a positive linear predictor)
make_x <- function(n, kind = c("normal", "positive"), k = 3) {
  kind <- match.arg(kind)
  x1 <- if (kind == "normal") rnorm(n) else runif(n, 0, 2)
  x <- data.frame(x1 = round(x1, 4),
                  x2 = round(runif(n, -1, 1), 4),
                  x3 = rbinom(n, 1, 0.4))
  x[, seq_len(k), drop = FALSE]
}

lin <- function(x, beta) {
  eta <- rep(beta[1], nrow(x))
  for (j in seq_len(ncol(x))) eta <- eta + beta[j + 1] * x[[j]]
  eta
}

## compound Poisson-gamma (Tweedie, 1 < p < 2) draws
rtweedie_cpg <- function(mu, phi, p) {
  lambda <- mu^(2 - p) / (phi * (2 - p))
  shape  <- (2 - p) / (p - 1)
  scale  <- phi * (p - 1) * mu^(p - 1)
  N <- rpois(length(mu), lambda)
  vapply(seq_along(mu), function(i)
    if (N[i] == 0) 0 else sum(rgamma(N[i], shape = shape, scale = scale[i])),
    numeric(1))
}

## frequency weights 1..4
make_fw <- function(n) sample(1:4, n, replace = TRUE)

## ---------------------------------------------------------------------------
## case definitions
## ---------------------------------------------------------------------------
## Each case: name, seed, family (R family object), spec (language-neutral
## description of family/link for the Python side), gen (function returning a
## data.frame), and optional columns: weights, offset, exposure, fw.

cases <- list()
add_case <- function(...) {
  cs <- list(...)
  cases[[cs$name]] <<- cs
}
sp <- function(name, link, ...) c(list(name = name, link = link), list(...))

## --- gaussian --------------------------------------------------------------
add_case(name = "gaussian_identity", seed = 101,
  family = gaussian("identity"), spec = sp("gaussian", "identity"),
  gen = function() {
    n <- 50; x <- make_x(n)
    y <- lin(x, c(2, 1.5, -0.8, 0.5)) + rnorm(n, sd = 1)
    cbind(y = signif(y, 7), x)
  })

add_case(name = "gaussian_log", seed = 102,
  family = gaussian("log"), spec = sp("gaussian", "log"),
  gen = function() {
    n <- 50; x <- make_x(n)
    mu <- exp(lin(x, c(1, 0.3, -0.4, 0.2)))
    y <- pmax(mu + rnorm(n, sd = 0.5), 0.05)
    cbind(y = signif(y, 7), x)
  })

add_case(name = "gaussian_identity_weights", seed = 103,
  family = gaussian("identity"), spec = sp("gaussian", "identity"),
  weights = "w",
  gen = function() {
    n <- 50; x <- make_x(n)
    w <- round(runif(n, 0.5, 3), 3)
    y <- lin(x, c(2, 1.5, -0.8, 0.5)) + rnorm(n, sd = 1 / sqrt(w))
    cbind(y = signif(y, 7), x, w = w)
  })

## --- binomial --------------------------------------------------------------
binary_case <- function(name, seed, link, beta, n = 100) {
  fam <- binomial(link)
  add_case(name = name, seed = seed, family = fam, spec = sp("binomial", link),
    gen = function() {
      x <- make_x(n)
      p <- fam$linkinv(lin(x, beta))
      cbind(y = rbinom(n, 1, p), x)
    })
}
binary_case("binomial_probit",  202, "probit",  c(-0.2, 0.6, -0.5, 0.4))
binary_case("binomial_cloglog", 203, "cloglog", c(-0.7, 0.6, -0.5, 0.4))
binary_case("binomial_cauchit", 204, "cauchit", c(-0.2, 0.9, -0.8, 0.6))

## logit, 0/1 response; also carries fw for the frequency-weight check
add_case(name = "binomial_logit", seed = 201,
  family = binomial("logit"), spec = sp("binomial", "logit"), fw = "fw",
  gen = function() {
    n <- 100; x <- make_x(n)
    p <- plogis(lin(x, c(-0.3, 0.8, -0.6, 0.5)))
    cbind(y = rbinom(n, 1, p), x, fw = make_fw(n))
  })

## log link: small probabilities so every fitted p stays well below 1
add_case(name = "binomial_log", seed = 205,
  family = binomial("log"), spec = sp("binomial", "log"),
  gen = function() {
    n <- 150; x <- make_x(n)
    x$x1 <- round(runif(n, -1, 1), 4)     # bounded, keeps p < 0.4
    p <- exp(lin(x, c(-2, 0.4, 0.5, 0.3)))
    cbind(y = rbinom(n, 1, p), x)
  })

## proportion response with prior weights = number of trials
add_case(name = "binomial_logit_prop_weights", seed = 206,
  family = binomial("logit"), spec = sp("binomial", "logit"), weights = "w",
  gen = function() {
    n <- 50; x <- make_x(n)
    m <- sample(5:30, n, replace = TRUE)
    s <- rbinom(n, m, plogis(lin(x, c(-0.4, 0.7, -0.5, 0.3))))
    ## s/m written with 15 significant digits; R and Python read the same string
    cbind(y = s / m, x, w = m)
  })

## two-column response cbind(successes, failures)
add_case(name = "binomial_logit_cbind", seed = 207,
  family = binomial("logit"), spec = sp("binomial", "logit"),
  response = c("s", "f"),
  gen = function() {
    n <- 50; x <- make_x(n)
    m <- sample(5:30, n, replace = TRUE)
    s <- rbinom(n, m, plogis(lin(x, c(0.3, -0.6, 0.8, -0.4))))
    cbind(s = s, f = m - s, x)
  })

## --- poisson ---------------------------------------------------------------
add_case(name = "poisson_log", seed = 301,
  family = poisson("log"), spec = sp("poisson", "log"), fw = "fw",
  gen = function() {
    n <- 50; x <- make_x(n)
    y <- rpois(n, exp(lin(x, c(0.5, 0.4, -0.3, 0.2))))
    cbind(y = y, x, fw = make_fw(n))
  })

add_case(name = "poisson_log_offset", seed = 302,
  family = poisson("log"), spec = sp("poisson", "log"), offset = "offset",
  gen = function() {
    n <- 50; x <- make_x(n)
    off <- round(rnorm(n, 0, 0.5), 4)
    y <- rpois(n, exp(off + lin(x, c(0.8, 0.4, -0.3, 0.2))))
    cbind(y = y, x, offset = off)
  })

add_case(name = "poisson_log_exposure", seed = 303,
  family = poisson("log"), spec = sp("poisson", "log"), exposure = "exposure",
  gen = function() {
    n <- 50; x <- make_x(n)
    ex <- round(runif(n, 0.5, 10), 3)
    y <- rpois(n, ex * exp(lin(x, c(-0.5, 0.4, -0.3, 0.2))))
    cbind(y = y, x, exposure = ex)
  })

add_case(name = "poisson_identity", seed = 304,
  family = poisson("identity"), spec = sp("poisson", "identity"),
  gen = function() {
    n <- 50; x <- make_x(n, "positive")
    y <- rpois(n, lin(x, c(4, 1.5, 1.5, 1)))      # mu >= 2.5
    cbind(y = y, x)
  })

add_case(name = "poisson_sqrt", seed = 305,
  family = poisson("sqrt"), spec = sp("poisson", "sqrt"),
  gen = function() {
    n <- 50; x <- make_x(n)
    y <- rpois(n, lin(x, c(2, 0.5, -0.4, 0.3))^2)
    cbind(y = y, x)
  })

add_case(name = "poisson_log_weights", seed = 306,
  family = poisson("log"), spec = sp("poisson", "log"), weights = "w",
  gen = function() {
    n <- 50; x <- make_x(n)
    w <- round(runif(n, 0.5, 3), 3)
    y <- rpois(n, exp(lin(x, c(0.5, 0.4, -0.3, 0.2))))
    cbind(y = y, x, w = w)
  })

## --- Gamma -----------------------------------------------------------------
add_case(name = "gamma_inverse", seed = 401,
  family = Gamma("inverse"), spec = sp("gamma", "inverse"),
  gen = function() {
    n <- 50; x <- make_x(n, "positive")
    mu <- 1 / lin(x, c(0.5, 0.2, 0.15, 0.1))      # eta in [0.35, 1.15]
    y <- rgamma(n, shape = 5, scale = mu / 5)
    cbind(y = signif(y, 7), x)
  })

add_case(name = "gamma_log", seed = 402,
  family = Gamma("log"), spec = sp("gamma", "log"), fw = "fw",
  gen = function() {
    n <- 50; x <- make_x(n)
    mu <- exp(lin(x, c(1, 0.5, -0.3, 0.2)))
    y <- rgamma(n, shape = 3, scale = mu / 3)
    cbind(y = signif(y, 7), x, fw = make_fw(n))
  })

add_case(name = "gamma_identity", seed = 403,
  family = Gamma("identity"), spec = sp("gamma", "identity"),
  gen = function() {
    n <- 50; x <- make_x(n, "positive")
    mu <- lin(x, c(5, 2, 1.5, 1))                 # mu >= 3.5
    y <- rgamma(n, shape = 4, scale = mu / 4)
    cbind(y = signif(y, 7), x)
  })

add_case(name = "gamma_log_weights", seed = 404,
  family = Gamma("log"), spec = sp("gamma", "log"), weights = "w",
  gen = function() {
    n <- 50; x <- make_x(n)
    w <- round(runif(n, 0.5, 3), 3)
    mu <- exp(lin(x, c(1, 0.5, -0.3, 0.2)))
    y <- rgamma(n, shape = 3 * w, scale = mu / (3 * w))
    cbind(y = signif(y, 7), x, w = w)
  })

## --- inverse Gaussian ------------------------------------------------------
add_case(name = "invgauss_inverse_squared", seed = 501,
  family = inverse.gaussian("1/mu^2"), spec = sp("inverse_gaussian", "inverse_squared"),
  gen = function() {
    n <- 50; x <- make_x(n, "positive")
    eta <- lin(x, c(0.4, 0.2, 0.1, 0.1))          # eta in [0.3, 0.9]
    y <- rinvgauss(n, mean = 1 / sqrt(eta), dispersion = 0.2)
    cbind(y = signif(y, 7), x)
  })

add_case(name = "invgauss_inverse_squared_small", seed = 502,
  family = inverse.gaussian("1/mu^2"), spec = sp("inverse_gaussian", "inverse_squared"),
  gen = function() {
    n <- 15; x <- make_x(n, "positive", k = 2)
    eta <- lin(x, c(0.4, 0.2, 0.1))               # eta in [0.3, 0.9]
    y <- rinvgauss(n, mean = 1 / sqrt(eta), dispersion = 0.1)
    cbind(y = signif(y, 7), x)
  })

add_case(name = "invgauss_log", seed = 503,
  family = inverse.gaussian("log"), spec = sp("inverse_gaussian", "log"),
  gen = function() {
    n <- 50; x <- make_x(n)
    mu <- exp(lin(x, c(0.5, 0.3, -0.2, 0.1)))
    y <- rinvgauss(n, mean = mu, dispersion = 0.1)
    cbind(y = signif(y, 7), x)
  })

## --- Tweedie (compound Poisson-gamma, p = 1.5), log link --------------------
add_case(name = "tweedie_p15_log", seed = 601,
  family = tweedie(var.power = 1.5, link.power = 0),
  spec = sp("tweedie", "log", var_power = 1.5),
  gen = function() {
    n <- 100; x <- make_x(n)
    mu <- exp(lin(x, c(-0.2, 0.4, -0.3, 0.3)))
    y <- rtweedie_cpg(mu, phi = 3, p = 1.5)       # P(y = 0) = exp(-sqrt(mu) / 1.5), ~0.5
    cbind(y = signif(y, 7), x)
  })

## --- negative binomial, fixed theta = 2, log link ---------------------------
add_case(name = "negbin_theta2_log", seed = 701,
  family = negative.binomial(theta = 2), spec = sp("negative_binomial", "log", theta = 2),
  gen = function() {
    n <- 60; x <- make_x(n)
    y <- rnbinom(n, size = 2, mu = exp(lin(x, c(1, 0.5, -0.4, 0.3))))
    cbind(y = y, x)
  })

## ---------------------------------------------------------------------------
## fitting and output
## ---------------------------------------------------------------------------

fit_glm <- function(d, cs, x_cols, control, start = NULL) {
  resp <- if (is.null(cs$response)) "y" else sprintf("cbind(%s)", paste(cs$response, collapse = ", "))
  fstr <- paste(resp, "~", paste(x_cols, collapse = " + "))
  fam <- cs$family
  cl <- call("glm", formula = as.formula(fstr), family = quote(fam),
             data = quote(d), control = quote(control))
  if (!is.null(start))       cl$start <- unname(start)
  if (!is.null(cs$weights))  cl$weights <- as.name(cs$weights)
  if (!is.null(cs$offset))   cl$offset <- as.name(cs$offset)
  if (!is.null(cs$exposure)) cl$offset <- call("log", as.name(cs$exposure))
  fit <- eval(cl)
  attr(fit, "formula_string") <- fstr
  fit
}

## glm()'s stopping rule, |dev - dev_old| / (|dev| + 0.1) < epsilon, looks at the
## deviance, which is flat (quadratic) at the optimum.  For non-canonical links
## IRLS (Fisher scoring) converges only linearly, and with epsilon = 1e-12 the
## coefficients can still be ~1e-6 (relative) away from the optimum.  So after
## the epsilon = 1e-12 fit we keep taking IRLS steps, restarting glm() from the
## previous coefficients (start = ...; each restart makes >= 1 IRLS step), until
## the coefficients stop moving: max |b_new - b_old| / (|b_old| + 1e-10) < 1e-13.
## The final object is an ordinary glm() fit at the converged coefficients.
POLISH_RTOL <- 1e-13
POLISH_MAX  <- 1000

fit_converged <- function(d, cs, x_cols) {
  fit <- fit_glm(d, cs, x_cols, TIGHT)
  if (!fit$converged) stop("epsilon = 1e-12 fit did not converge: ", cs$name)
  first <- fit
  steps <- 0L
  repeat {
    b <- coef(fit)
    fit <- fit_glm(d, cs, x_cols, TIGHT, start = b)
    steps <- steps + fit$iter
    change <- max(abs(coef(fit) - b) / (abs(b) + 1e-10))
    if (change < POLISH_RTOL) break
    if (steps >= POLISH_MAX) stop("IRLS polishing did not settle: ", cs$name)
  }
  if (!fit$converged) stop("polished fit did not converge: ", cs$name)
  attr(fit, "first") <- first
  attr(fit, "polish_steps") <- steps
  attr(fit, "polish_last_change") <- change
  fit
}

## R names -> glmkit/statsmodels names (intercept is "const")
py_names <- function(nm) ifelse(nm == "(Intercept)", "const", nm)

results_list <- function(fit, keep_rows = NULL) {
  s <- summary(fit)
  cf <- coef(fit)
  nm <- py_names(names(cf))
  bse <- sqrt(diag(vcov(fit)))
  ll <- as.numeric(logLik(fit))
  if (!is.finite(ll)) ll <- NULL
  rows <- if (is.null(keep_rows)) seq_along(fit$y) else keep_rows
  obs <- function(v) unname(as.numeric(v))[rows]
  list(
    param_names = I(nm),
    params = setNames(as.list(unname(cf)), nm),
    bse = setNames(as.list(unname(bse)), nm),
    deviance = fit$deviance,
    null_deviance = fit$null.deviance,
    pearson_chi2 = sum(residuals(fit, "pearson")^2),
    dispersion = s$dispersion,
    df_residual = fit$df.residual,
    df_null = fit$df.null,
    nobs = length(fit$y),
    loglik = ll,
    aic = if (is.finite(fit$aic)) fit$aic else NULL,
    iter = attr(fit, "first")$iter + attr(fit, "polish_steps"),   # total IRLS steps
    converged = fit$converged,
    fitted = obs(fitted(fit)),
    linear_predictors = obs(fit$linear.predictors),
    resid_response = obs(residuals(fit, "response")),
    resid_pearson = obs(residuals(fit, "pearson")),
    resid_deviance = obs(residuals(fit, "deviance")),
    resid_working = obs(residuals(fit, "working"))
  )
}

pkg_versions <- function() {
  list(R = paste(R.version$major, R.version$minor, sep = "."),
       MASS = as.character(packageVersion("MASS")),
       statmod = as.character(packageVersion("statmod")),
       jsonlite = as.character(packageVersion("jsonlite")))
}

write_json_file <- function(x, path) {
  txt <- toJSON(x, digits = NA, auto_unbox = TRUE, null = "null", na = "null",
                pretty = TRUE)
  writeLines(txt, path)
}

rel_diff <- function(a, b) max(abs(a - b) / abs(b))

## information on how far R's stopping rules are from the converged optimum
convergence_extra <- function(fit, fitd, nm) {
  first <- attr(fit, "first")
  list(
    iter_epsilon_1e12 = first$iter,
    polish_steps = attr(fit, "polish_steps"),
    polish_last_rel_change = attr(fit, "polish_last_change"),
    params_epsilon_1e12 = setNames(as.list(unname(coef(first))), nm),
    params_default_control = setNames(as.list(unname(coef(fitd))), nm),
    deviance_default_control = fitd$deviance,
    iter_default_control = fitd$iter,
    converged_default_control = fitd$converged
  )
}

summary_row <- function(case, fit, fitd) {
  first <- attr(fit, "first")
  b <- coef(fit)
  data.frame(
    case = case,
    iter_default = fitd$iter,
    iter_eps12 = first$iter,
    polish = attr(fit, "polish_steps"),
    relerr_params_default = rel_diff(coef(fitd), b),
    abserr_params_default = max(abs(coef(fitd) - b)),
    relerr_params_eps12 = rel_diff(coef(first), b),
    relerr_bse_default = rel_diff(sqrt(diag(vcov(fitd))), sqrt(diag(vcov(fit)))),
    relerr_deviance_default = abs(fitd$deviance - fit$deviance) / fit$deviance)
}

summary_rows <- list()

for (cs in cases) {
  set.seed(cs$seed)
  raw <- cs$gen()
  data_file <- sprintf("data_%s.csv", cs$name)
  write.csv(raw, data_file, row.names = FALSE)
  d <- read.csv(data_file)               # fit exactly what the CSV holds

  response_cols <- if (is.null(cs$response)) "y" else cs$response
  x_cols <- grep("^x[0-9]+$", names(d), value = TRUE)

  fit  <- fit_converged(d, cs, x_cols)
  fitd <- fit_glm(d, cs, x_cols, DEFAULT)

  fam <- cs$family
  base <- list(
    case = cs$name,
    family = fam$family,
    link = fam$link,
    family_spec = cs$spec,
    formula = attr(fit, "formula_string"),
    r_offset = if (!is.null(cs$offset)) cs$offset else if (!is.null(cs$exposure)) sprintf("log(%s)", cs$exposure) else NULL,
    r_weights = cs$weights,
    r_version = R.version.string,
    package_versions = pkg_versions(),
    control = list(epsilon = 1e-12, maxit = 200,
                   polish = "IRLS restarts from the previous coefficients until max relative change < 1e-13"),
    data_file = data_file,
    n_rows = nrow(d),
    response_cols = I(response_cols),   # I(): always a JSON array
    x_cols = I(x_cols),
    offset_col = cs$offset,
    exposure_col = cs$exposure,
    var_weights_col = cs$weights,
    freq_weights_col = NULL,
    expanded = FALSE
  )
  res <- results_list(fit)
  out <- c(base, res, convergence_extra(fit, fitd, res$param_names))
  if (identical(cs$spec$name, "negative_binomial")) {
    ## summary.glm() estimates the dispersion (Pearson chi2 / df) for any family
    ## other than poisson/binomial, including MASS::negative.binomial(theta).
    ## glm.nb()'s summary and statsmodels use dispersion 1; record that too.
    out$bse_dispersion_one <- setNames(
      as.list(unname(sqrt(diag(summary(fit, dispersion = 1)$cov.scaled)))),
      res$param_names)
  }
  write_json_file(out, sprintf("ref_%s.json", cs$name))
  summary_rows[[length(summary_rows) + 1]] <- summary_row(cs$name, fit, fitd)

  ## frequency weights: fit R on the expanded rows
  if (!is.null(cs$fw)) {
    idx <- rep(seq_len(nrow(d)), d[[cs$fw]])
    de <- d[idx, , drop = FALSE]
    rownames(de) <- NULL
    fite  <- fit_converged(de, cs, x_cols)
    fited <- fit_glm(de, cs, x_cols, DEFAULT)
    first_rows <- match(seq_len(nrow(d)), idx)   # one expanded row per original row
    base_e <- base
    base_e$case <- paste0(cs$name, "_freq")
    base_e$freq_weights_col <- cs$fw
    base_e$expanded <- TRUE
    base_e$expanded_note <- paste(
      "R fit on the data with row i repeated fw[i] times.",
      "Aggregates (params, bse, deviance, ...) refer to the expanded fit;",
      "per-observation vectors are given once per original CSV row.")
    rese <- results_list(fite, keep_rows = first_rows)
    write_json_file(c(base_e, rese, convergence_extra(fite, fited, rese$param_names)),
                    sprintf("ref_%s_freq.json", cs$name))
    summary_rows[[length(summary_rows) + 1]] <- summary_row(base_e$case, fite, fited)
  }
}

tab <- do.call(rbind, summary_rows)
cat("\nParameters from R's default control (epsilon = 1e-8, maxit = 25) and from",
    "\nepsilon = 1e-12, compared with the converged (polished) fit:\n")
print(format(tab, digits = 3), row.names = FALSE)
cat("\n", R.version.string, "\n", sep = "")
