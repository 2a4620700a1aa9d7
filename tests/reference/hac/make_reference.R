#!/usr/bin/env Rscript
## Reference values for cov_type='hac' (Newey-West, Bartlett kernel) on glm fits.
##
## Run from this folder:   Rscript make_reference.R
##
## Each case simulates its data with set.seed(), writes data_<case>.csv (values rounded
## so the CSV holds them exactly), reads it back, fits glm() with a tight tolerance and
## writes ref_hac.json with sandwich::NeweyWest(fit, lag = L, prewhite = FALSE,
## adjust = FALSE) (statsmodels' use_correction=False) and adjust = TRUE (n / (n - k),
## statsmodels' use_correction=True), for L = 0, 1, 3.
suppressPackageStartupMessages({
  library(sandwich)
  library(jsonlite)
})
TIGHT <- glm.control(epsilon = 1e-14, maxit = 200)

cases <- list()
set.seed(20261203)
n <- 120
x1 <- round(rnorm(n), 4)
x2 <- round(runif(n, -1, 1), 4)
e <- as.numeric(arima.sim(list(ar = 0.5), n))
y_pois <- rpois(n, exp(0.3 + 0.4 * x1 - 0.3 * x2 + 0.3 * e))
y_gamma <- round(rgamma(n, shape = 3, scale = exp(0.5 + 0.2 * x1 + 0.2 * e) / 3), 6)
write.csv(data.frame(y = y_pois, x1 = x1, x2 = x2), "data_poisson_log.csv", row.names = FALSE)
write.csv(data.frame(y = y_gamma, x1 = x1, x2 = x2), "data_gamma_log.csv", row.names = FALSE)

fams <- list(poisson_log = poisson(link = "log"), gamma_log = Gamma(link = "log"))
out <- list()
for (case in names(fams)) {
  d <- read.csv(paste0("data_", case, ".csv"))
  fit <- glm(y ~ x1 + x2, family = fams[[case]], data = d, control = TIGHT)
  res <- list(coef = unname(coef(fit)))
  for (L in c(0, 1, 3)) {
    res[[paste0("lag", L)]] <- unname(NeweyWest(fit, lag = L, prewhite = FALSE, adjust = FALSE))
    res[[paste0("lag", L, "_adjust")]] <- unname(NeweyWest(fit, lag = L, prewhite = FALSE,
                                                           adjust = TRUE))
  }
  out[[case]] <- res
}
out$R_version <- R.version.string
out$sandwich_version <- as.character(packageVersion("sandwich"))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "ref_hac.json")
