#!/usr/bin/env Rscript
## Reference values for glmkit's inference layer (robust covariances,
## predictions, influence measures, analysis of deviance, Wald / LR / score
## tests, profile-likelihood intervals, information criteria, pseudo R^2,
## exponentiated coefficients).
##
## Run from this folder:   Rscript make_reference.R
##
## Same conventions as tests/reference/core/make_reference.R:
##   * every case simulates its data with its own set.seed(), writes
##     data_<case>.csv (and newdata_<case>.csv), reads the CSV back and fits
##     exactly what the CSV holds;
##   * every glm() fit (full model, nested sub-models, the null model, the
##     sequential sub-models inside anova() and the restricted fits of the
##     profile likelihood) is "polished": glm.control(epsilon = 1e-12,
##     maxit = 200), then IRLS restarts from the previous coefficients until
##     max |b_new - b_old| / (|b_old| + 1e-10) < 1e-13;
##   * ref_<case>.json is written with jsonlite::toJSON(digits = NA);
##   * the frequency-weight case is fitted by R on the EXPANDED data (row i
##     repeated fw[i] times); per-observation vectors are reported once per
##     CSV row (the first copy of each row).
##
## Negative binomial (MASS::negative.binomial(theta = 2)): summary.glm()
## estimates the dispersion for this family.  glmkit (like statsmodels and
## MASS::glm.nb) uses dispersion 1, so every dispersion-dependent value of that
## case is computed with dispersion = 1 (R's `dispersion = 1` arguments where
## they exist, otherwise the same formula with 1 in place of
## summary(fit)$dispersion).  R's values with the estimated dispersion are kept
## under "r_default_estimated_dispersion" for information.

suppressPackageStartupMessages({
  library(stats)
  library(MASS)      # negative.binomial(), confint.glm / profile.glm (R 4.2)
  library(sandwich)  # vcovHC(), vcovCL()
  library(statmod)   # rinvgauss()
  library(jsonlite)
})

TIGHT <- glm.control(epsilon = 1e-12, maxit = 200)
POLISH_RTOL <- 1e-13
POLISH_MAX  <- 1000

## ---------------------------------------------------------------------------
## helpers for simulating data (same as the core script)
## ---------------------------------------------------------------------------

## x1 ~ N(0,1) (kind "normal") or U(0,2) (kind "positive"), x2 ~ U(-1,1),
## x3 ~ Bernoulli(0.4); rounded to 4 decimals so the CSV holds them exactly.
make_x <- function(n, kind = c("normal", "positive")) {
  kind <- match.arg(kind)
  x1 <- if (kind == "normal") rnorm(n) else runif(n, 0, 2)
  data.frame(x1 = round(x1, 4),
             x2 = round(runif(n, -1, 1), 4),
             x3 = rbinom(n, 1, 0.4))
}

lin <- function(x, beta) {
  eta <- rep(beta[1], nrow(x))
  for (j in seq_len(ncol(x))) eta <- eta + beta[j + 1] * x[[j]]
  eta
}

## clustering columns: g1 in 1..G1 (every label used), g2 in 1..G2, plus a
## random intercept per g1 group (u) so that clustering matters.
make_groups <- function(n, G1, G2, sd_u) {
  g1 <- c(seq_len(G1), sample(seq_len(G1), n - G1, replace = TRUE))[sample(n)]
  g2 <- sample(seq_len(G2), n, replace = TRUE)
  u  <- rnorm(G1, 0, sd_u)
  list(g1 = g1, g2 = g2, u = u[g1])
}

## 5 new rows: x1, x2 at the 10/30/50/70/90 % quantiles of the data, x3 fixed
make_newdata <- function(d) {
  q <- c(0.1, 0.3, 0.5, 0.7, 0.9)
  data.frame(x1 = round(unname(quantile(d$x1, q)), 4),
             x2 = round(unname(quantile(d$x2, rev(q))), 4),
             x3 = c(0, 1, 1, 0, 1))
}

## ---------------------------------------------------------------------------
## cases
## ---------------------------------------------------------------------------

cases <- list()
add_case <- function(...) {
  cs <- list(...)
  cases[[cs$name]] <<- cs
}
sp <- function(name, link, ...) c(list(name = name, link = link), list(...))

add_case(name = "binomial_logit", seed = 1101,
  family = binomial("logit"), spec = sp("binomial", "logit"),
  gen = function() {
    n <- 80; x <- make_x(n); g <- make_groups(n, 12, 5, 0.4)
    p <- plogis(lin(x, c(-0.3, 0.8, -0.6, 0.5)) + g$u)
    cbind(y = rbinom(n, 1, p), x, g1 = g$g1, g2 = g$g2)
  })

## 0/1 response with integer prior weights (statsmodels var_weights); R reads
## y as a proportion out of w trials (so no "non-integer #successes" warning).
add_case(name = "binomial_logit_weights", seed = 1102,
  family = binomial("logit"), spec = sp("binomial", "logit"), weights = "w",
  gen = function() {
    n <- 70; x <- make_x(n); g <- make_groups(n, 10, 4, 0.4)
    p <- plogis(lin(x, c(0.2, 0.7, -0.8, -0.4)) + g$u)
    cbind(y = rbinom(n, 1, p), x, g1 = g$g1, g2 = g$g2,
          w = sample(1:4, n, replace = TRUE))
  })

add_case(name = "binomial_probit", seed = 1103,
  family = binomial("probit"), spec = sp("binomial", "probit"),
  gen = function() {
    n <- 80; x <- make_x(n); g <- make_groups(n, 12, 5, 0.3)
    p <- pnorm(lin(x, c(-0.2, 0.6, -0.5, 0.4)) + g$u)
    cbind(y = rbinom(n, 1, p), x, g1 = g$g1, g2 = g$g2)
  })

add_case(name = "poisson_log_offset", seed = 1201,
  family = poisson("log"), spec = sp("poisson", "log"), offset = "offset",
  gen = function() {
    n <- 60; x <- make_x(n); g <- make_groups(n, 10, 5, 0.3)
    off <- round(rnorm(n, 0, 0.5), 4)
    y <- rpois(n, exp(off + lin(x, c(0.8, 0.4, -0.3, 0.2)) + g$u))
    cbind(y = y, x, g1 = g$g1, g2 = g$g2, offset = off)
  })

add_case(name = "poisson_log_freq", seed = 1202,
  family = poisson("log"), spec = sp("poisson", "log"), fw = "fw",
  gen = function() {
    n <- 50; x <- make_x(n); g <- make_groups(n, 10, 4, 0.3)
    y <- rpois(n, exp(lin(x, c(0.5, 0.4, -0.3, 0.2)) + g$u))
    cbind(y = y, x, g1 = g$g1, g2 = g$g2, fw = sample(1:4, n, replace = TRUE))
  })

add_case(name = "gamma_log", seed = 1301,
  family = Gamma("log"), spec = sp("gamma", "log"),
  gen = function() {
    n <- 60; x <- make_x(n); g <- make_groups(n, 10, 5, 0.2)
    mu <- exp(lin(x, c(1, 0.5, -0.3, 0.2)) + g$u)
    y <- rgamma(n, shape = 3, scale = mu / 3)
    cbind(y = signif(y, 7), x, g1 = g$g1, g2 = g$g2)
  })

add_case(name = "gamma_inverse", seed = 1302,
  family = Gamma("inverse"), spec = sp("gamma", "inverse"),
  gen = function() {
    n <- 60; x <- make_x(n, "positive"); g <- make_groups(n, 8, 4, 0.03)
    mu <- 1 / (lin(x, c(0.5, 0.2, 0.15, 0.1)) + g$u)   # eta in about [0.3, 1.2]
    y <- rgamma(n, shape = 5, scale = mu / 5)
    cbind(y = signif(y, 7), x, g1 = g$g1, g2 = g$g2)
  })

add_case(name = "invgauss_log", seed = 1401,
  family = inverse.gaussian("log"), spec = sp("inverse_gaussian", "log"),
  gen = function() {
    n <- 60; x <- make_x(n); g <- make_groups(n, 10, 5, 0.2)
    mu <- exp(lin(x, c(0.5, 0.3, -0.2, 0.1)) + g$u)
    y <- rinvgauss(n, mean = mu, dispersion = 0.1)
    cbind(y = signif(y, 7), x, g1 = g$g1, g2 = g$g2)
  })

add_case(name = "negbin_theta2_log", seed = 1501,
  family = negative.binomial(theta = 2), spec = sp("negative_binomial", "log", theta = 2),
  gen = function() {
    n <- 70; x <- make_x(n); g <- make_groups(n, 12, 5, 0.3)
    y <- rnbinom(n, size = 2, mu = exp(lin(x, c(1, 0.5, -0.4, 0.3)) + g$u))
    cbind(y = y, x, g1 = g$g1, g2 = g$g2)
  })

add_case(name = "gaussian_identity", seed = 1601,
  family = gaussian("identity"), spec = sp("gaussian", "identity"),
  gen = function() {
    n <- 60; x <- make_x(n); g <- make_groups(n, 10, 4, 0.5)
    y <- lin(x, c(2, 1.5, -0.8, 0.5)) + g$u + rnorm(n, sd = 1)
    cbind(y = signif(y, 7), x, g1 = g$g1, g2 = g$g2)
  })

## ---------------------------------------------------------------------------
## polished fits
## ---------------------------------------------------------------------------

fit_glm <- function(d, cs, x_cols, start = NULL) {
  rhs <- if (length(x_cols)) paste(x_cols, collapse = " + ") else "1"
  fstr <- paste("y ~", rhs)
  fam <- cs$family
  cl <- call("glm", formula = as.formula(fstr), family = quote(fam),
             data = quote(d), control = quote(TIGHT))
  if (!is.null(start))       cl$start <- unname(start)
  if (!is.null(cs$weights))  cl$weights <- as.name(cs$weights)
  if (!is.null(cs$offset))   cl$offset <- as.name(cs$offset)
  fit <- eval(cl)
  attr(fit, "formula_string") <- fstr
  fit
}

## glm() fit iterated until the coefficients stop moving (see the core README).
fit_converged <- function(d, cs, x_cols) {
  fit <- fit_glm(d, cs, x_cols)
  if (!fit$converged) stop("epsilon = 1e-12 fit did not converge: ", cs$name)
  steps <- 0L
  repeat {
    b <- coef(fit)
    fit <- fit_glm(d, cs, x_cols, start = b)
    steps <- steps + fit$iter
    change <- max(abs(coef(fit) - b) / (abs(b) + 1e-10))
    if (change < POLISH_RTOL) break
    if (steps >= POLISH_MAX) stop("IRLS polishing did not settle: ", cs$name)
  }
  if (!fit$converged) stop("polished fit did not converge: ", cs$name)
  fit$start <- NULL     # anova.glm() passes object$start to its sub-model fits
  fit
}

## Drop-in replacement for glm.fit() with the same polishing.  Installed as
## fit$method so that stats:::anova.glm() fits its sequential sub-models (and
## the weighted least-squares regressions of the Rao score test) to the same
## accuracy as the full model.  `start` is ignored (anova.glm passes the full
## model's start, which has the wrong length for a sub-model).
polished_glm_fit <- function(x, y, weights = NULL, start = NULL, etastart = NULL,
                             mustart = NULL, offset = NULL, family = gaussian(),
                             control = list(), intercept = TRUE, singular.ok = TRUE) {
  fit <- glm.fit(x = x, y = y, weights = weights, offset = offset,
                 family = family, control = TIGHT, intercept = intercept)
  if (family$family == "gaussian" && family$link == "identity") return(fit)
  steps <- 0L
  repeat {
    b <- fit$coefficients
    fit <- glm.fit(x = x, y = y, weights = weights, start = b, offset = offset,
                   family = family, control = TIGHT, intercept = intercept)
    steps <- steps + fit$iter
    if (max(abs(fit$coefficients - b) / (abs(b) + 1e-10)) < POLISH_RTOL) break
    if (steps >= POLISH_MAX) stop("polished_glm_fit did not settle")
  }
  fit
}

## ---------------------------------------------------------------------------
## small utilities
## ---------------------------------------------------------------------------

py_names <- function(nm) ifelse(nm == "(Intercept)", "const", nm)
named <- function(v, nm) setNames(as.list(unname(as.numeric(v))), nm)
vec <- function(v) unname(as.numeric(v))
mat <- function(m) { m <- unname(as.matrix(m)); storage.mode(m) <- "double"; m }
relmax <- function(a, b) max(abs(a - b) / pmax(abs(b), 1e-300))

## a data.frame (anova table) as {index, columns, data: {column: [...]}}
table_json <- function(tab) {
  tab <- as.data.frame(tab)
  list(index = I(rownames(tab)), columns = I(colnames(tab)),
       data = setNames(lapply(colnames(tab), function(cn) I(vec(tab[[cn]]))),
                       colnames(tab)))
}

## JSON with jsonlite::toJSON(digits = NA), laid out one key per line for the
## first two levels of nesting and compact below that (keeps the files small).
enc_json <- function(v) {
  if (is.null(v)) return("null")
  as.character(toJSON(v, digits = NA, auto_unbox = TRUE, null = "null", na = "null"))
}
is_dict <- function(v) is.list(v) && length(v) > 0 && !is.null(names(v)) &&
  !is.data.frame(v) && !inherits(v, "AsIs")
layout_json <- function(x, indent = "", depth = 1) {
  inner <- paste0(indent, " ")
  items <- vapply(names(x), function(k) {
    v <- x[[k]]
    val <- if (depth < 2 && is_dict(v)) layout_json(v, inner, depth + 1) else enc_json(v)
    paste0(inner, enc_json(unbox(k)), ": ", val)
  }, "")
  paste0("{\n", paste(items, collapse = ",\n"), "\n", indent, "}")
}
write_json_file <- function(x, path) {
  txt <- layout_json(x)
  stopifnot(identical(fromJSON(txt, simplifyVector = FALSE),
                      fromJSON(toJSON(x, digits = NA, auto_unbox = TRUE, null = "null",
                                      na = "null"), simplifyVector = FALSE)))
  writeLines(txt, path)
}

pkg_versions <- function() {
  list(R = paste(R.version$major, R.version$minor, sep = "."),
       MASS = as.character(packageVersion("MASS")),
       sandwich = as.character(packageVersion("sandwich")),
       statmod = as.character(packageVersion("statmod")),
       jsonlite = as.character(packageVersion("jsonlite")))
}

FIXED_DISPERSION <- c("binomial", "poisson", "negative_binomial")

## ---------------------------------------------------------------------------
## profile likelihood: exact roots of the statistic MASS::profile.glm uses
## ---------------------------------------------------------------------------
## MASS (R 4.2) profiles z(b) = sign(b - bhat) * sqrt((D(b) - D(bhat)) / phi),
## phi = summary(fit)$dispersion, on a grid of 10 steps per side, and
## confint.profile.glm() interpolates the grid (spline() then approx()) at
## z = qnorm(alpha/2), qnorm(1 - alpha/2) -- for every family, including the
## ones with an estimated dispersion.  Here the same equation is solved with
## uniroot() on polished restricted fits.

profile_deviance <- function(X, y, w, off, fam, j, bj) {
  fm <- polished_glm_fit(x = X[, -j, drop = FALSE], y = y, weights = w,
                         offset = off + X[, j] * bj, family = fam)
  fm$deviance
}

profile_ci_exact <- function(fit, level, phi) {
  X <- model.matrix(fit)
  y <- fit$y
  w <- fit$prior.weights
  off <- if (is.null(fit$offset)) rep(0, length(y)) else fit$offset
  fam <- family(fit)
  b <- coef(fit)
  se <- sqrt(diag(summary(fit, dispersion = phi)$cov.scaled))
  D0 <- fit$deviance
  a <- (1 - level) / 2
  cut <- qnorm(1 - a)
  lower <- upper <- numeric(length(b))
  for (j in seq_along(b)) {
    zfun <- function(bj) {
      dd <- profile_deviance(X, y, w, off, fam, j, bj) - D0
      sign(bj - b[j]) * sqrt(max(dd, 0) / phi)
    }
    for (sgn in c(-1, 1)) {
      f <- function(bj) zfun(bj) - sgn * cut
      step <- 1.2 * cut * se[j]
      far <- b[j] + sgn * step
      k <- 0
      while (sgn * f(far) < 0) {          # expand until the root is bracketed
        far <- b[j] + sgn * (step <- step * 1.5)
        if ((k <- k + 1) > 30) stop("profile: cannot bracket root")
      }
      r <- uniroot(f, sort(c(b[j], far)), tol = 1e-14 * (abs(b[j]) + se[j]),
                   maxiter = 500)$root
      if (sgn < 0) lower[j] <- r else upper[j] <- r
    }
  }
  nm <- py_names(names(b))
  list(lower = named(lower, nm), upper = named(upper, nm))
}

profile_ci_mass <- function(fit, level) {
  ci <- suppressMessages(confint(fit, level = level))   # MASS:::confint.glm
  nm <- py_names(rownames(ci))
  list(lower = named(ci[, 1], nm), upper = named(ci[, 2], nm))
}

## The negative binomial fit as MASS::glm.nb() would return it (theta held at
## 2): class "negbin", so summary() -> summary.negbin() -> dispersion 1, which
## profile.glm() then uses.  Its family name is "Negative Binomial(2)", which
## does NOT match the "Negative Binomial" branch of profile.glm()'s switch, so
## the profiling grid uses zmax = sqrt(qf(1 - alpha, 1, n - p)) (as for every
## glm.nb fit).  as_negbin(fit, rename = TRUE) renames the family so that the
## intended branch, zmax = sqrt(qchisq(1 - alpha, 1)), is used instead.
as_negbin <- function(fit, theta, rename = FALSE) {
  f <- fit
  f$theta <- theta
  class(f) <- c("negbin", "glm", "lm")
  if (rename) f$family$family <- "Negative Binomial"
  f
}

## ---------------------------------------------------------------------------
## main loop
## ---------------------------------------------------------------------------

check_rows <- list()

for (cs in cases) {
  set.seed(cs$seed)
  raw <- cs$gen()
  data_file <- sprintf("data_%s.csv", cs$name)
  write.csv(raw, data_file, row.names = FALSE)
  d0 <- read.csv(data_file)                    # fit exactly what the CSV holds
  nd_raw <- make_newdata(d0)
  if (!is.null(cs$offset)) nd_raw$offset <- c(-0.5, 0, 0.25, 0.6, 1)
  newdata_file <- sprintf("newdata_%s.csv", cs$name)
  write.csv(nd_raw, newdata_file, row.names = FALSE)
  nd <- read.csv(newdata_file)

  x_cols <- c("x1", "x2", "x3")
  if (!is.null(cs$fw)) {                       # frequency weights: expand rows
    idx <- rep(seq_len(nrow(d0)), d0[[cs$fw]])
    d <- d0[idx, , drop = FALSE]
    rownames(d) <- NULL
    rows <- match(seq_len(nrow(d0)), idx)      # first copy of each CSV row
  } else {
    d <- d0
    rows <- seq_len(nrow(d0))
  }
  obs <- function(v) vec(v)[rows]

  fit <- fit_converged(d, cs, x_cols)
  fit_x1   <- fit_converged(d, cs, "x1")
  fit_x12  <- fit_converged(d, cs, c("x1", "x2"))
  fit_null <- fit_converged(d, cs, character(0))
  fit$method <- polished_glm_fit               # used by anova.glm's sub-models

  fam_name <- cs$spec$name
  fixed <- fam_name %in% FIXED_DISPERSION
  is_nb <- fam_name == "negative_binomial"
  phi_r <- summary(fit)$dispersion              # R's own (NB: Pearson estimate)
  phi <- if (is_nb) 1 else phi_r                # dispersion used in this file
  dfr <- fit$df.residual
  nm <- py_names(names(coef(fit)))
  k <- length(nm)
  V <- summary(fit, dispersion = phi)$cov.scaled
  n_fit <- length(fit$y)

  ## -- 1. robust covariances ------------------------------------------------
  rob <- function(v) mat(v)      # standard errors are sqrt(diag(.))
  robust <- list(
    HC0 = rob(vcovHC(fit, type = "HC0")),
    HC1 = rob(vcovHC(fit, type = "HC1")),
    HC2 = rob(vcovHC(fit, type = "HC2")),
    HC3 = rob(vcovHC(fit, type = "HC3")),
    ## vcovCL's default type for a glm is "HC0" (only "lm" objects get "HC1"),
    ## with cadjust = TRUE: G/(G-1).  type = "HC1" adds (n-1)/(n-k).
    cluster_g1 = rob(vcovCL(fit, cluster = d$g1)),
    cluster_g1_HC1 = rob(vcovCL(fit, cluster = d$g1, type = "HC1")),
    cluster_g1_g2 = rob(vcovCL(fit, cluster = data.frame(g1 = d$g1, g2 = d$g2))),
    cluster_g1_g2_HC1 = rob(vcovCL(fit, cluster = data.frame(g1 = d$g1, g2 = d$g2),
                                   type = "HC1")),
    n_groups = list(g1 = length(unique(d$g1)), g2 = length(unique(d$g2)),
                    g1_g2 = length(unique(paste(d$g1, d$g2))))
  )
  ## sanity: HC0 by hand, (X'WX)^-1 X' diag(u^2) X (X'WX)^-1, u = working resid * working weight
  X <- model.matrix(fit)
  u <- fit$residuals * fit$weights
  XtWXi <- summary(fit)$cov.unscaled
  hc0_hand <- XtWXi %*% crossprod(X * u) %*% XtWXi
  stopifnot(relmax(hc0_hand, vcovHC(fit, type = "HC0")) < 1e-10)

  ## -- 2. predictions -------------------------------------------------------
  fam <- family(fit)
  qn <- qnorm(0.975)
  qt_ <- qt(0.975, dfr)
  ci_mean <- function(eta, se, q) {
    a <- fam$linkinv(eta - q * se); b <- fam$linkinv(eta + q * se)
    list(lower = pmin(a, b), upper = pmax(a, b))
  }
  pl <- predict(fit, type = "link", se.fit = TRUE, dispersion = phi)
  pr <- predict(fit, type = "response", se.fit = TRUE, dispersion = phi)
  stopifnot(relmax(pl$fit, fit$linear.predictors) < 1e-14)
  q_use <- if (fixed) qn else qt_
  predict_insample <- list(
    ci_quantile = if (fixed) "qnorm(0.975)" else sprintf("qt(0.975, df = %d)", dfr),
    ci_q = q_use,
    linear = list(predicted = obs(pl$fit), se = obs(pl$se.fit)),
    mean = list(predicted = obs(pr$fit), se = obs(pr$se.fit)))

  nl <- predict(fit, newdata = nd, type = "link", se.fit = TRUE, dispersion = phi)
  nr <- predict(fit, newdata = nd, type = "response", se.fit = TRUE, dispersion = phi)
  cin <- ci_mean(nl$fit, nl$se.fit, qn)
  cit <- ci_mean(nl$fit, nl$se.fit, qt_)
  predict_new <- list(
    n_rows = nrow(nd),
    offset = if (!is.null(cs$offset)) I(vec(nd$offset)) else NULL,
    ci_quantile = if (fixed) "norm" else "t",
    t_df = dfr,
    linear = list(predicted = vec(nl$fit), se = vec(nl$se.fit),
                  ci_norm_lower = vec(nl$fit - qn * nl$se.fit),
                  ci_norm_upper = vec(nl$fit + qn * nl$se.fit),
                  ci_t_lower = vec(nl$fit - qt_ * nl$se.fit),
                  ci_t_upper = vec(nl$fit + qt_ * nl$se.fit)),
    mean = list(predicted = vec(nr$fit), se = vec(nr$se.fit),
                ci_norm_lower = vec(cin$lower), ci_norm_upper = vec(cin$upper),
                ci_t_lower = vec(cit$lower), ci_t_upper = vec(cit$upper)))

  ## -- 3. influence ---------------------------------------------------------
  infl <- influence(fit)
  h <- hatvalues(fit)
  cook <- cooks.distance(fit, dispersion = phi)
  ## rstandard.glm() divides by sqrt(summary(fit)$dispersion * (1 - h)); for
  ## NB that is the estimated dispersion, so rescale to dispersion 1.
  rsd <- rstandard(fit, type = "deviance") * sqrt(phi_r / phi)
  rsp <- rstandard(fit, type = "pearson") * sqrt(phi_r / phi)
  rst <- rstudent(fit)
  dfbs <- dfbetas(fit)
  dff <- dffits(fit)
  cvr <- covratio(fit)
  im <- influence.measures(fit)$infmat
  im_cols <- colnames(im)
  ## check the pieces against the formulas documented in the README
  dres <- residuals(fit, "deviance"); pres <- residuals(fit, "pearson")
  p <- fit$rank; nn <- nrow(X)
  sig <- sqrt((sum(dres^2) - dres^2 / (1 - h)) / (nn - p - 1))
  stopifnot(relmax(sig, infl$sigma) < 1e-10)
  stopifnot(relmax(rsd, dres / sqrt(phi * (1 - h))) < 1e-10)
  stopifnot(relmax(rsp, pres / sqrt(phi * (1 - h))) < 1e-10)
  stopifnot(relmax(cook, (pres / (1 - h))^2 * h / (phi * p)) < 1e-10)
  r0 <- sign(dres) * sqrt(dres^2 + h * pres^2 / (1 - h))
  stopifnot(relmax(rst, if (fam$family %in% c("binomial", "poisson")) r0 else r0 / sig) < 1e-10)
  Rq <- qr.R(fit$qr)[seq_len(p), seq_len(p)]
  ## R's dfbeta for a glm: ((X'WX)^-1 x_i sqrt(w_i)) * dev.res_i / (1 - h_i)
  xxi <- chol2inv(fit$qr$qr[seq_len(p), seq_len(p), drop = FALSE])
  sw <- sqrt(fit$weights)
  dfb_hand <- (X * sw) %*% xxi * (dres / (1 - h))
  stopifnot(max(abs(dfb_hand - dfbeta(fit))) < 1e-10 * max(abs(dfb_hand)))
  stopifnot(relmax(dfbs, dfb_hand / outer(sig, sqrt(diag(xxi)))) < 1e-8)
  stopifnot(relmax(dff, dres * sqrt(h) / (sig * (1 - h))) < 1e-10)
  s <- sqrt(sum(dres^2) / dfr)
  stopifnot(relmax(cvr, (sig / s)^(2 * p) / (1 - h)) < 1e-10)
  im_diff <- c(
    dfb = max(abs(im[, seq_len(k)] - dfbs)),
    dffit = max(abs(im[, "dffit"] - dff)),
    cov.r = max(abs(im[, "cov.r"] - cvr)),
    cook.d = max(abs(im[, "cook.d"] - cooks.distance(fit))),
    hat = max(abs(im[, "hat"] - h)))
  stopifnot(all(im_diff < 1e-10))
  influence_out <- list(
    hat = obs(h),
    cooks_distance = obs(cook),
    rstandard_deviance = obs(rsd),
    rstandard_pearson = obs(rsp),
    rstudent = obs(rst),
    dfbetas = mat(dfbs[rows, , drop = FALSE]),
    dffits = obs(dff),
    covratio = obs(cvr),
    rstudent_divided_by_sigma = !(fam$family %in% c("binomial", "poisson")),
    infmat_columns = I(im_cols),
    infmat_note = paste(
      "influence.measures(fit)$infmat has columns", paste(im_cols, collapse = ", "),
      "and equals cbind(dfbetas, dffits, covratio, cooks.distance, hatvalues)",
      "(max abs difference", format(max(im_diff), digits = 3), "), so it is not stored again.",
      if (is_nb) "Its cook.d column uses R's estimated dispersion; cooks_distance here uses 1." else ""))

  ## -- 4. analysis of deviance ----------------------------------------------
  disp_arg <- if (is_nb) 1 else NULL
  seq_tests <- if (fixed) c("Chisq", "Rao") else c("Chisq", "F", "Rao")
  anova_seq <- lapply(setNames(seq_tests, seq_tests), function(tt)
    table_json(anova(fit, test = tt, dispersion = disp_arg)))
  ## the same table with R's own sub-model fits (unpolished, epsilon = 1e-12)
  fit_plain <- fit; fit_plain$method <- "glm.fit"
  seq_plain_diff <- max(sapply(seq_tests, function(tt) {
    a <- as.matrix(anova(fit, test = tt, dispersion = disp_arg))
    b <- as.matrix(anova(fit_plain, test = tt, dispersion = disp_arg))
    max(abs(a - b) / pmax(abs(b), 1e-300), na.rm = TRUE)
  }))

  nest_tests <- if (fixed) c("Chisq", "LRT", "Rao") else c("Chisq", "LRT", "F", "Rao")
  anova_nested <- list(
    models = list(`1` = I("x1"), `2` = I(c("x1", "x2")), `3` = I(c("x1", "x2", "x3"))),
    three = lapply(setNames(nest_tests, nest_tests), function(tt)
      table_json(anova(fit_x1, fit_x12, fit, test = tt, dispersion = disp_arg))),
    ## two models (const + x1 versus the full model): the Chisq table only; the
    ## LRT and Rao versions are under lr_test and score_test
    two = list(Chisq = table_json(anova(fit_x1, fit, test = "Chisq", dispersion = disp_arg))))

  ## -- 5. Wald, LR and score tests ------------------------------------------
  b <- coef(fit)
  Rm <- rbind(c(0, 1, 0, 0), c(0, 0, 1, -1))
  qv <- c(0, 0)
  dlt <- Rm %*% b - qv
  W <- as.numeric(t(dlt) %*% solve(Rm %*% V %*% t(Rm), dlt))
  wald <- list(hypothesis = "x1 = 0, x2 = x3", r_matrix = Rm, q = I(qv),
               statistic = W, df = 2, pvalue = pchisq(W, 2, lower.tail = FALSE),
               F_statistic = W / 2, F_df_denom = dfr,
               F_pvalue = pf(W / 2, 2, dfr, lower.tail = FALSE))
  se1 <- sqrt(V[2, 2])
  tv <- b[2] / se1
  t_test <- list(hypothesis = "x1 = 0", effect = unname(b[2]), sd = se1,
                 tvalue = unname(tv),
                 pvalue_norm = 2 * pnorm(-abs(unname(tv))),
                 pvalue_t = 2 * pt(-abs(unname(tv)), dfr),
                 df_resid = dfr,
                 ## summary.glm() uses t(df.residual) only when it estimates the
                 ## dispersion itself (passing dispersion = phi would switch to z)
                 summary_glm_pvalue = unname(summary(fit, dispersion = disp_arg)$coefficients[2, 4]))

  lrt <- anova(fit_x1, fit, test = "LRT", dispersion = disp_arg)
  lr_test <- list(small = I("x1"), big = I(c("x1", "x2", "x3")),
                  deviance_difference = lrt$Deviance[2],
                  dispersion = phi,
                  statistic = lrt$Deviance[2] / phi, df = lrt$Df[2],
                  pvalue = lrt[["Pr(>Chi)"]][2])
  stopifnot(abs(lr_test$pvalue - pchisq(lr_test$statistic, 2, lower.tail = FALSE)) < 1e-15)

  rao <- anova(fit_x1, fit, test = "Rao", dispersion = disp_arg)
  ## unscaled score statistic U' I^-1 U at the small model (expected information)
  r1 <- fit_x1$residuals; w1 <- fit_x1$weights
  U <- crossprod(X, w1 * r1)
  Iinf <- crossprod(X * sqrt(w1))
  rao_unscaled <- as.numeric(t(U) %*% solve(Iinf, U))
  stopifnot(abs(rao_unscaled - rao$Rao[2]) / rao$Rao[2] < 1e-8)
  score_test <- list(small = I("x1"), exog_extra = I(c("x2", "x3")),
                     statistic = rao$Rao[2] / phi, df = rao$Df[2],
                     pvalue = rao[["Pr(>Chi)"]][2],
                     unscaled = rao$Rao[2],
                     dispersion_big = phi,
                     dispersion_small = if (fixed) 1 else summary(fit_x1)$dispersion)

  ## -- 6. profile-likelihood intervals ---------------------------------------
  levels <- c(`0.95` = 0.95, `0.9` = 0.90)
  fit_prof <- if (is_nb) as_negbin(fit, cs$spec$theta) else fit
  stopifnot(summary(fit_prof)$dispersion == phi)
  profile_ci <- lapply(levels, function(lv) profile_ci_mass(fit_prof, lv))
  profile_exact <- lapply(levels, function(lv) profile_ci_exact(fit, lv, phi))
  profile_zgrid <- if (is_nb) lapply(levels, function(lv)
    profile_ci_mass(as_negbin(fit, cs$spec$theta, rename = TRUE), lv)) else NULL
  ## spline error of MASS relative to the exact root with the same dispersion
  spline_err <- max(sapply(names(levels), function(lv) {
    e <- unlist(profile_exact[[lv]]); m <- unlist(profile_ci[[lv]])
    max(abs(m - e) / abs(e))
  }))
  wald_ci <- list(lower = named(b - qn * sqrt(diag(V)), nm),
                  upper = named(b + qn * sqrt(diag(V)), nm))
  stopifnot(relmax(unlist(wald_ci),
                   c(confint.default(fit_prof)[, 1], confint.default(fit_prof)[, 2])) < 1e-12)
  wald_ci_t <- list(lower = named(b - qt_ * sqrt(diag(V)), nm),
                    upper = named(b + qt_ * sqrt(diag(V)), nm))

  ## -- 7. information criteria ------------------------------------------------
  ll <- logLik(fit)
  info <- list(aic = AIC(fit), bic = BIC(fit), llf = as.numeric(ll),
               df = attr(ll, "df"), nobs = nobs(fit))

  ## -- 8. pseudo R^2 ---------------------------------------------------------
  ll0 <- as.numeric(logLik(fit_null))
  pseudo <- if (fixed) list(
    mcf = 1 - as.numeric(ll) / ll0,
    cs = 1 - exp(2 * (ll0 - as.numeric(ll)) / nobs(fit)),
    llf = as.numeric(ll), llnull = ll0, nobs = nobs(fit)) else NULL

  ## -- 9. exponentiated coefficients -----------------------------------------
  expp <- if (fixed && fam$link %in% c("logit", "log")) {
    cd <- if (is_nb) cbind(b - qn * sqrt(diag(V)), b + qn * sqrt(diag(V))) else confint.default(fit)
    e <- exp(cbind(b, cd))
    list(index = I(nm), `exp(coef)` = I(vec(e[, 1])), lower = I(vec(e[, 2])),
         upper = I(vec(e[, 3])))
  } else NULL

  ## -- NB: R's values with its own (estimated) dispersion --------------------
  nb_extra <- if (is_nb) list(
    dispersion = phi_r,
    note = paste("summary.glm() estimates the dispersion (Pearson chi2 / df) for",
                 "negative.binomial(theta); these are R's defaults, not tested."),
    bse = named(sqrt(diag(vcov(fit))), nm),
    predict_new_link_se = vec(predict(fit, newdata = nd, type = "link", se.fit = TRUE)$se.fit),
    anova_sequential_Chisq = table_json(anova(fit, test = "Chisq")),
    profile_ci_mass = lapply(levels, function(lv) profile_ci_mass(fit, lv)),
    profile_ci_exact = lapply(levels, function(lv) profile_ci_exact(fit, lv, phi_r))) else NULL

  out <- list(
    case = cs$name,
    family = fam$family,
    link = fam$link,
    family_spec = cs$spec,
    formula = attr(fit, "formula_string"),
    r_offset = cs$offset,
    r_weights = cs$weights,
    r_version = R.version.string,
    package_versions = pkg_versions(),
    control = list(epsilon = 1e-12, maxit = 200,
                   polish = "IRLS restarts from the previous coefficients until max relative change < 1e-13"),
    data_file = data_file,
    newdata_file = newdata_file,
    n_rows = nrow(d0),
    response_cols = I("y"),
    x_cols = I(x_cols),
    cluster_cols = I(c("g1", "g2")),
    offset_col = cs$offset,
    exposure_col = NULL,
    var_weights_col = cs$weights,
    freq_weights_col = cs$fw,
    expanded = !is.null(cs$fw),
    nobs = nobs(fit),
    dispersion_fixed = fixed,
    dispersion = phi,
    df_residual = dfr,
    param_names = I(nm),
    params = named(b, nm),
    bse = named(sqrt(diag(V)), nm),
    deviance = fit$deviance,
    robust = robust,
    predict_insample = predict_insample,
    predict_new = predict_new,
    influence = influence_out,
    anova_sequential = anova_seq,
    anova_nested = anova_nested,
    wald_test = wald,
    t_test = t_test,
    lr_test = lr_test,
    score_test = score_test,
    profile_ci = profile_ci,
    profile_ci_exact = profile_exact,
    profile_ci_mass_zgrid = profile_zgrid,
    wald_ci = wald_ci,
    wald_ci_t = wald_ci_t,
    info_criteria = info,
    pseudo_rsquared = pseudo,
    exp_params = expp,
    r_default_estimated_dispersion = nb_extra)
  write_json_file(out, sprintf("ref_%s.json", cs$name))

  check_rows[[length(check_rows) + 1]] <- data.frame(
    case = cs$name, n = n_fit, k = k, dispersion = signif(phi, 4),
    profile_mass_vs_exact = spline_err,
    anova_polished_vs_plain = seq_plain_diff,
    HC1_cl_over_HC0_cl = signif(robust$cluster_g1_HC1[2, 2] / robust$cluster_g1[2, 2], 6))
}

tab <- do.call(rbind, check_rows)
cat("\nmax relative difference of MASS::confint (spline) from the exact profile root,",
    "\nand of anova.glm with R's own (unpolished) sub-model fits from the polished table:\n")
print(format(tab, digits = 3), row.names = FALSE)
cat("\n", R.version.string, "\n", sep = "")
