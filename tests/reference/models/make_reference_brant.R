# Reference values for glmkit.brant: Brant's (1990) test of the proportional-odds assumption
# of MASS::polr. The brant package is not installed here, so this script computes the test
# from its published formula in base R (written from Brant 1990, Biometrics 46:1171-1178,
# and the brant package's documented output: X2, df, probability for the omnibus test and
# for each coefficient). Run from this folder: Rscript make_reference_brant.R
#
# For each cut k = 1..J-1, a binary logit of I(y > k) on the polr design (with intercept)
# gives beta_k and fitted probabilities pi_k. Cov(beta_k, beta_l) = (X'W_k X)^-1
# (X'W_kl X) (X'W_l X)^-1 with W_k = diag(pi_k (1 - pi_k)), W_kl = diag(pi_l - pi_k pi_l)
# for k < l. The Wald statistic of beta_1 = ... = beta_{J-1} (slopes only) is X2 on
# (J-2) K df; per coefficient, the same on J-2 df.
library(MASS)
library(jsonlite)

brant_formula <- function(formula, data, w = rep(1, nrow(data))) {
  # w: frequency weights (weight k = k copies of the row)
  mf <- model.frame(formula, data)
  y <- model.response(mf)
  X <- model.matrix(formula, mf)
  J <- nlevels(y)
  K <- ncol(X) - 1
  yi <- as.integer(y)
  beta <- matrix(0, J - 1, K + 1)
  pi <- matrix(0, nrow(X), J - 1)
  for (k in 1:(J - 1)) {
    f <- glm.fit(X, as.numeric(yi > k), weights = w, family = binomial(),
                 control = glm.control(epsilon = 1e-14, maxit = 100))
    beta[k, ] <- f$coefficients
    pi[, k] <- f$fitted.values
  }
  inv <- lapply(1:(J - 1), function(k) solve(crossprod(X, X * (w * pi[, k] * (1 - pi[, k])))))
  V <- matrix(0, (J - 1) * K, (J - 1) * K)
  blk <- function(k) ((k - 1) * K + 1):(k * K)
  for (k in 1:(J - 1)) for (l in k:(J - 1)) {
    Wkl <- pi[, l] - pi[, k] * pi[, l]
    Vkl <- inv[[k]] %*% crossprod(X, X * (w * Wkl)) %*% inv[[l]]
    V[blk(k), blk(l)] <- Vkl[-1, -1]
    V[blk(l), blk(k)] <- t(Vkl[-1, -1])
  }
  b <- as.vector(t(beta[, -1]))
  D <- matrix(0, (J - 2) * K, (J - 1) * K)
  for (k in 1:(J - 2)) {
    D[blk(k), blk(1)] <- diag(K)
    D[blk(k), blk(k + 1)] <- -diag(K)
  }
  wald <- function(Dm) {
    d <- Dm %*% b
    as.numeric(t(d) %*% solve(Dm %*% V %*% t(Dm)) %*% d)
  }
  X2 <- c(wald(D), sapply(1:K, function(j) wald(D[seq(j, (J - 2) * K, by = K), , drop = FALSE])))
  df <- c((J - 2) * K, rep(J - 2, K))
  list(names = c("Omnibus", colnames(X)[-1]), X2 = X2, df = df,
       probability = pchisq(X2, df, lower.tail = FALSE), beta = beta)
}

d <- read.csv("data_sim.csv")
d$o <- factor(d$o, levels = c("none", "low", "some", "many"), ordered = TRUE)
# MASS's housing data (data_housing.csv, written by make_reference.R) with its counts as
# frequency weights
out <- list(sim = brant_formula(o ~ x1 + x2 + g, d),
            housing = brant_formula(Sat ~ Infl + Type + Cont, housing, housing$Freq))
write_json(out, "ref_brant.json", digits = NA, auto_unbox = TRUE, pretty = TRUE,
           matrix = "rowmajor")
