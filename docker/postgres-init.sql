-- Runs once, as the superuser, when the postgres container initialises an empty data
-- directory. Mirrors libs/database/database-roles.ts: the owner runs migrations; the app logs
-- in as a role without BYPASSRLS so Row-Level Security applies to it; the system login role
-- carries BYPASSRLS itself (the attribute is not inherited through group membership).
-- Passwords come from the container environment, never from this file.
\getenv owner_password CALMOPS_OWNER_DB_PASSWORD
\getenv app_password CALMOPS_APP_DB_PASSWORD
\getenv sys_password CALMOPS_SYS_DB_PASSWORD

SELECT :{?owner_password} AND :{?app_password} AND :{?sys_password} AS passwords_set \gset
\if :passwords_set
\else
DO $$ BEGIN
  RAISE EXCEPTION 'set CALMOPS_OWNER_DB_PASSWORD, CALMOPS_APP_DB_PASSWORD and CALMOPS_SYS_DB_PASSWORD';
END $$;
\endif

CREATE ROLE calmops_owner LOGIN NOSUPERUSER CREATEROLE PASSWORD :'owner_password';
CREATE ROLE calmops_runtime NOLOGIN NOSUPERUSER NOBYPASSRLS;
CREATE ROLE calmops_system NOLOGIN NOSUPERUSER;
CREATE ROLE calmops_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
CREATE ROLE calmops_sys LOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'sys_password';
-- Migrations grant table privileges to the group roles; the login roles inherit them.
GRANT calmops_runtime TO calmops_app;
GRANT calmops_system TO calmops_sys;

CREATE DATABASE calmops OWNER calmops_owner ENCODING 'UTF8';
-- The queue library (pg-boss) creates and owns its own schema as the system login role.
GRANT CREATE ON DATABASE calmops TO calmops_sys;
