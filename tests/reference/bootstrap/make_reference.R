# Reference values for glmkit.bootstrap: R's boot and boot.ci on a logistic GLM.
# Run from this directory: Rscript make_reference.R   (R 4.2, boot from Debian's r-cran-boot)
# Writes data.csv (the data), indices.csv (boot.array(b, indices = TRUE): one resample per
# row, 1-based row numbers), t.csv (R's replicate coefficients) and intervals.csv
# (percentile and BCa intervals from boot.ci, BCa with the jackknife acceleration
# L = empinf(b, type = "jack")). The test replays indices.csv, so the resamples are R's.
library(boot)
set.seed(20261203)
n <- 80
x1 <- rnorm(n); x2 <- runif(n)
y <- rbinom(n, 1, plogis(-0.3 + 0.8 * x1 - 1.2 * x2))
d <- data.frame(y = y, x1 = x1, x2 = x2)
write.csv(d, "data.csv", row.names = FALSE)
ctl <- glm.control(epsilon = 1e-14, maxit = 100)   # replicates at the maximum itself
stat <- function(data, i) coef(glm(y ~ x1 + x2, family = binomial, data = data[i, ],
                                   control = ctl))
b <- boot(d, stat, R = 299)
write.csv(boot.array(b, indices = TRUE), "indices.csv", row.names = FALSE)
colnames(b$t) <- names(b$t0)
write.csv(b$t, "t.csv", row.names = FALSE)
L <- lapply(seq_along(b$t0), function(j) empinf(b, index = j, type = "jack"))
rows <- list()
for (conf in c(0.95, 0.90)) for (j in seq_along(b$t0)) {
  ci <- boot.ci(b, conf = conf, type = c("perc", "bca"), index = j, L = L[[j]])
  a <- sum(L[[j]]^3) / (6 * sum(L[[j]]^2)^1.5)
  rows[[length(rows) + 1]] <- data.frame(
    term = names(b$t0)[j], conf = conf, t0 = b$t0[j],
    perc_low = ci$percent[4], perc_high = ci$percent[5],
    bca_low = ci$bca[4], bca_high = ci$bca[5], acceleration = a)
}
write.csv(do.call(rbind, rows), "intervals.csv", row.names = FALSE)
