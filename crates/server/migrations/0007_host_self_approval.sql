-- Separation of duties follows the host certificate. A format-2 certificate names its issuer
-- (checked at registration to be the registering user and the org key's holder,
-- `broker_org.set_by`) and whether the issuer may approve alone; `self_approval` keeps that flag
-- for the approval count. NULL: a format-1 certificate (no issuer in it), judged as before by its
-- registering user and the entry's `allow_self_approval`.
ALTER TABLE broker_hosts ADD COLUMN self_approval BIGINT;
