; An unterminated string.
.version 1.0
.module "case
