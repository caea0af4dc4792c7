-- Test fixtures loaded by scripts/services/mariadb-up as root over the socket
-- (the root password is set by the script itself). Every user exists @'127.0.0.1' and @'localhost'.
-- Passwords are test-only constants; docs/services.md lists them.

CREATE DATABASE IF NOT EXISTS sqlx_test;

-- mysql_native_password, SELECT on everything (read-only learning of all databases).
CREATE OR REPLACE USER 'sqlx_native'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('native-pw');
CREATE OR REPLACE USER 'sqlx_native'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('native-pw');
GRANT SELECT ON *.* TO 'sqlx_native'@'127.0.0.1', 'sqlx_native'@'localhost';

-- ed25519 (plugin auth_ed25519 is loaded at start-up).
CREATE OR REPLACE USER 'sqlx_ed'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('ed-pw');
CREATE OR REPLACE USER 'sqlx_ed'@'localhost' IDENTIFIED VIA ed25519 USING PASSWORD('ed-pw');

-- Must connect over TLS.
CREATE OR REPLACE USER 'sqlx_tls'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('tls-pw') REQUIRE SSL;
CREATE OR REPLACE USER 'sqlx_tls'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('tls-pw') REQUIRE SSL;

-- Empty password.
CREATE OR REPLACE USER 'sqlx_empty'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
CREATE OR REPLACE USER 'sqlx_empty'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('');

GRANT ALL PRIVILEGES ON sqlx_test.* TO
  'sqlx_native'@'127.0.0.1', 'sqlx_native'@'localhost',
  'sqlx_ed'@'127.0.0.1', 'sqlx_ed'@'localhost',
  'sqlx_tls'@'127.0.0.1', 'sqlx_tls'@'localhost',
  'sqlx_empty'@'127.0.0.1', 'sqlx_empty'@'localhost';

-- Scratch databases of `sqlx plan:diff --dev-url` (a .sql desired state runs in one; docs/cli.md).
GRANT ALL PRIVILEGES ON `sqlx\_scratch\_%`.* TO 'sqlx_native'@'127.0.0.1', 'sqlx_native'@'localhost';
-- The docs' `sqlx apply` example creates and changes its own databases (sqlx_docs_*).
GRANT ALL PRIVILEGES ON `sqlx\_docs\_%`.* TO 'sqlx_native'@'127.0.0.1', 'sqlx_native'@'localhost';

FLUSH PRIVILEGES;
