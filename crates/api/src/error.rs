//! Every error code the API answers with. An error's body is
//! `{"error": {"code": CODE, "message": TEXT, ...}}`; the code is the stable, machine-readable
//! part (clients switch on it), the message is for people and may change.

use std::fmt;

/// The error codes, one variant each, with the HTTP status the server answers it with.
/// Their wire form is the snake_case name (`ErrorCode::SessionExpired` is `session_expired`).
/// A code the client does not know (a newer server) reads as [`ErrorCode::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: The request body or its framing is not what the route takes.
    InvalidRequest,
    /// 400: A query parameter is malformed.
    InvalidQuery,
    /// 400: A binary field is not valid base64url or hex.
    InvalidEncoding,
    /// 400: A name is empty, too long or holds refused characters.
    InvalidName,
    /// 400: The role is not `admin` or `user`.
    InvalidRole,
    /// 400: An expiry is out of the allowed range.
    InvalidExpiry,
    /// 400: A step-up target is empty, too long or malformed.
    InvalidTarget,
    /// 400: A step-up action is not one the server knows.
    InvalidAction,
    /// 400: The poll token does not hash to the value signed into the request.
    InvalidPollToken,
    /// 400: The revocation record is malformed (for example, an epoch out of range).
    InvalidRevocations,
    /// 413: The body is over the route's limit.
    PayloadTooLarge,
    /// 415: The body is not `application/json`.
    UnsupportedMediaType,
    /// 405: The web app is read-only: only `GET` and `HEAD` outside `/api/`.
    MethodNotAllowed,
    /// 404: No such route or page.
    NotFound,
    /// 429: Too many attempts; the error carries `retry_after_secs` and `Retry-After`.
    RateLimited,
    /// 429: The host has as many open requests as the server allows (`max_open_requests_per_host`): wait for approvers to decide them (or withdraw some), or raise the limit.
    TooManyOpenRequests,
    /// 429: The session has as many open event streams as the server allows (`max_event_streams_per_session`): close one (another tab) first.
    TooManyStreams,
    /// 429: The org's approvers have as many open requests before them as the server allows (`max_open_requests_per_org`, every host together): wait for them to be decided or to expire.
    TooManyOrgRequests,
    /// 408: The request's body did not arrive within `body_read_timeout_secs` of its headers.
    RequestTimeout,
    /// 500: An internal error; the detail is in the server's log only.
    Internal,
    /// 409: Two writers changed the same row at once; reload and retry.
    Conflict,
    /// 410: A one-time delivery already happened.
    Gone,
    /// 401: No session was presented.
    Unauthenticated,
    /// 401: The session token does not verify.
    InvalidSession,
    /// 401: The session has ended.
    SessionExpired,
    /// 401: The session has ended (revoked, or its person was deleted).
    SessionRevoked,
    /// 404: No such session.
    SessionNotFound,
    /// 401: The command-line token is unknown, revoked or expired: make a new one in the web app (Account → Command-line tokens) and run `blindvault login`.
    TokenInvalid,
    /// 400: A request carries both a command-line token and a session cookie.
    TokenAndCookie,
    /// 403: This route takes a browser session, never a command-line token (token and passkey management, step-up confirmation).
    TokenNotAllowed,
    /// 403: The command-line token's scope does not allow this call (`consumer-read` is `GET` only).
    TokenScope,
    /// 404: No such command-line token (of mine).
    TokenNotFound,
    /// 403: The session's role does not allow this (the admin or approver role is needed).
    Forbidden,
    /// 403: A state-changing request came from another origin.
    CrossOrigin,
    /// 403: Registration refused: an unknown, used or expired invite code, or a taken name (one answer for all).
    RegistrationRefused,
    /// 403: The one-time setup code does not match.
    SetupCodeInvalid,
    /// 409: The instance already has its first admin.
    AlreadyClaimed,
    /// 400: The ceremony's challenge is unknown, already used, for another request or person, or does not match (409 when a step-up's challenge was already answered).
    ChallengeInvalid,
    /// 400: The ceremony's challenge has expired.
    ChallengeExpired,
    /// 401: The ceremony came from another origin.
    OriginMismatch,
    /// 401: The credential is for another relying party.
    RpIdMismatch,
    /// 401: The authenticator did not verify the user.
    UserNotVerified,
    /// 401: The authenticator did not test user presence.
    UserNotPresent,
    /// 401: The signature counter went backwards: the credential may be cloned.
    CounterRegression,
    /// 409: This passkey is already registered.
    CredentialExists,
    /// 401: The client data has the wrong ceremony type.
    ClientDataInvalid,
    /// 401: No account here holds this passkey.
    UnknownCredential,
    /// 401: The passkey response could not be verified.
    WebauthnFailed,
    /// 400: The client data says `crossOrigin: true` or carries a `topOrigin`.
    WebauthnCrossOrigin,
    /// 400: The client data is not valid JSON of the expected shape.
    WebauthnClientDataInvalid,
    /// 400: The credential id is over 1,023 bytes.
    WebauthnCredentialIdTooLong,
    /// 400: A `none` attestation with a non-empty statement.
    WebauthnAttestationInvalid,
    /// 400: The authenticator data has bytes that no flag accounts for.
    WebauthnAuthenticatorDataInvalid,
    /// 404: No such user.
    UserNotFound,
    /// 409: An admin cannot delete their own account.
    CannotDeleteSelf,
    /// 409: The last admin cannot be demoted or deleted.
    LastAdmin,
    /// 404: No such passkey.
    PasskeyNotFound,
    /// 403: The passkey belongs to someone else.
    NotYourPasskey,
    /// 409: An account's last passkey cannot be removed.
    LastPasskey,
    /// 404: No such invite.
    NoSuchInvite,
    /// 403: The action needs a fresh passkey confirmation; the error carries `action` and `target`.
    StepUpRequired,
    /// 403: The step-up is unknown or belongs to another person.
    StepUpInvalid,
    /// 403: The step-up was made for another action or target.
    StepUpMismatch,
    /// 403: The step-up has not been confirmed yet.
    StepUpNotConfirmed,
    /// 410: The step-up expired before it was used.
    StepUpExpired,
    /// 409: The step-up was already spent.
    StepUpUsed,
    /// 409: The step-up was cancelled, or expired meanwhile.
    StepUpCancelled,
    /// 409: The step-up was already confirmed.
    StepUpConfirmed,
    /// 409: The org key is not set yet.
    OrgNotSet,
    /// 409: The server already has another org key.
    OrgAlreadySet,
    /// 403: Only the holder of the org key may do this.
    NotOrgKeyHolder,
    /// 400: A signed object does not verify under the org key.
    BadSignature,
    /// 400: The host certificate does not verify or has expired.
    BadCertificate,
    /// 400: A host certificate of format 2 is required (it names its issuer).
    CertificateNamesNoIssuer,
    /// 403: The certificate names another issuer than the registering person.
    CertificateIssuerMismatch,
    /// 400: The signed enrolment does not match the enrolment it approves.
    EnrolmentMismatch,
    /// 409: The enrolment was removed; the device must enrol again.
    EnrolmentRemoved,
    /// 404: No such enrolment.
    NoSuchEnrolment,
    /// 403: The passkey is not an enrolled approver device, or the device holds no envelope of the requested secret.
    NotAnApprover,
    /// 400: An entry names a device that is not an approved approver.
    UnknownApprover,
    /// 409: The org's revocation record names this approver key.
    ApproverRevoked,
    /// 403: The org refuses synced (backup-eligible) passkeys for approvers.
    SyncedPasskeyRefused,
    /// 403: The subscription's endpoint is not at a push service the server's operator allows.
    PushServiceNotAllowed,
    /// 409: The revocation record is older than the server's.
    RevocationRollback,
    /// 409: The revocation record drops a revocation the server's record holds.
    RevocationDiverged,
    /// 409: This host certificate is already registered.
    HostExists,
    /// 403: The host was revoked (409 when revoking it again).
    HostRevoked,
    /// 404: No unrevoked host with this id.
    NoSuchHost,
    /// 403: This host certificate is not registered.
    UnknownHost,
    /// 404: No such entry.
    NoSuchEntry,
    /// 400: The entry is not signed by the org key.
    EntryNotSigned,
    /// 409: The entry was deleted.
    EntryDeleted,
    /// 409: The entry version is not the next one, or another writer stored it first.
    VersionConflict,
    /// 400: The entry's policy names other people than its envelopes belong to.
    PolicyMismatch,
    /// 404: No such request.
    NoSuchRequest,
    /// 403: The signed request does not verify or does not match the host.
    RequestInvalid,
    /// 409: The request's approval window has closed.
    RequestExpired,
    /// 409: The request is no longer pending (approved, denied, delivered, expired or cancelled).
    RequestNotPending,
    /// 409: The request's lease is not running (not delivered yet, no lease, already over or ended).
    LeaseNotRunning,
    /// 409: A request with this id already exists (a replay?).
    DuplicateRequest,
    /// 409: This person already approved or denied the request.
    AlreadyDecided,
    /// 400: The sealed response names another request or device.
    ResponseMismatch,
    /// 403: The host's issuer may not approve its requests alone.
    SelfApprovalRefused,
    /// 403: The passkey, ceremony or step-up belongs to another account.
    WrongUser,
    /// 403: The gateway does not forward this method or route for this chain (it is not in the chain's allow-list).
    GatewayMethodNotAllowed,
    /// 400: A gateway call's kind, path segment, query parameter, parameters or body is malformed for its route.
    GatewayInvalidCall,
    /// 404: No enabled RPC endpoint is set for this chain and network.
    GatewayNoEndpoint,
    /// 413: The gateway call is over the configured request size.
    GatewayBodyTooLarge,
    /// 502: The chain's endpoint failed: no connection, a 5xx answer (in `upstream_status`) or a redirect.
    GatewayUpstreamFailed,
    /// 502: The chain's endpoint answered more than the configured response size.
    GatewayResponseTooLarge,
    /// 504: The chain's endpoint did not answer within the configured time.
    GatewayUpstreamTimeout,
    /// 400: An endpoint URL is not http(s)://host[:port][/path], or carries user info, a query or a fragment.
    WalletInvalidUrl,
    /// 400: An endpoint credential's name or value is refused (or it is set and cleared at once).
    WalletInvalidCredential,
    /// 400: A network name or EVM chain id is malformed (an EVM endpoint needs its chain id).
    WalletInvalidNetwork,
    /// 400: An address, contract, derivation path, label, symbol or decimals is malformed for its chain.
    WalletInvalidAddress,
    /// 400: A field looks like a private key, an extended private key or a mnemonic: the server never takes one.
    WalletPrivateMaterialRefused,
    /// 404: No such RPC endpoint.
    WalletEndpointNotFound,
    /// 404: No such default token.
    WalletTokenNotFound,
    /// 404: No such published address of mine.
    WalletAddressNotFound,
    /// 409: I have published the most addresses one person may; withdraw some first.
    WalletAddressLimit,
    /// 409: My wallet's origin passkey is already another one; it never changes.
    WalletOriginExists,
    /// 409: My wallet has no origin passkey yet: open it once before sealing envelopes.
    WalletOriginUnset,
    /// 409: The origin passkey opens the wallet with its own keys; it takes no envelope.
    WalletOriginNeedsNoEnvelope,
    /// 409: This passkey already has another wallet envelope (remove the passkey and add it again to replace it).
    WalletEnvelopeExists,
    /// 400: A wallet envelope is not base64url of 81 bytes starting with version 0x01.
    WalletEnvelopeInvalid,
    /// A code this build does not know (sent by a newer server). Never sent.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// Every code the server sends, in the order of the table in docs/protocol.md.
    pub const ALL: &[ErrorCode] = &[
        ErrorCode::InvalidRequest,
        ErrorCode::InvalidQuery,
        ErrorCode::InvalidEncoding,
        ErrorCode::InvalidName,
        ErrorCode::InvalidRole,
        ErrorCode::InvalidExpiry,
        ErrorCode::InvalidTarget,
        ErrorCode::InvalidAction,
        ErrorCode::InvalidPollToken,
        ErrorCode::InvalidRevocations,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::MethodNotAllowed,
        ErrorCode::NotFound,
        ErrorCode::RateLimited,
        ErrorCode::TooManyOpenRequests,
        ErrorCode::TooManyStreams,
        ErrorCode::TooManyOrgRequests,
        ErrorCode::RequestTimeout,
        ErrorCode::Internal,
        ErrorCode::Conflict,
        ErrorCode::Gone,
        ErrorCode::Unauthenticated,
        ErrorCode::InvalidSession,
        ErrorCode::SessionExpired,
        ErrorCode::SessionRevoked,
        ErrorCode::SessionNotFound,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenAndCookie,
        ErrorCode::TokenNotAllowed,
        ErrorCode::TokenScope,
        ErrorCode::TokenNotFound,
        ErrorCode::Forbidden,
        ErrorCode::CrossOrigin,
        ErrorCode::RegistrationRefused,
        ErrorCode::SetupCodeInvalid,
        ErrorCode::AlreadyClaimed,
        ErrorCode::ChallengeInvalid,
        ErrorCode::ChallengeExpired,
        ErrorCode::OriginMismatch,
        ErrorCode::RpIdMismatch,
        ErrorCode::UserNotVerified,
        ErrorCode::UserNotPresent,
        ErrorCode::CounterRegression,
        ErrorCode::CredentialExists,
        ErrorCode::ClientDataInvalid,
        ErrorCode::UnknownCredential,
        ErrorCode::WebauthnFailed,
        ErrorCode::WebauthnCrossOrigin,
        ErrorCode::WebauthnClientDataInvalid,
        ErrorCode::WebauthnCredentialIdTooLong,
        ErrorCode::WebauthnAttestationInvalid,
        ErrorCode::WebauthnAuthenticatorDataInvalid,
        ErrorCode::UserNotFound,
        ErrorCode::CannotDeleteSelf,
        ErrorCode::LastAdmin,
        ErrorCode::PasskeyNotFound,
        ErrorCode::NotYourPasskey,
        ErrorCode::LastPasskey,
        ErrorCode::NoSuchInvite,
        ErrorCode::StepUpRequired,
        ErrorCode::StepUpInvalid,
        ErrorCode::StepUpMismatch,
        ErrorCode::StepUpNotConfirmed,
        ErrorCode::StepUpExpired,
        ErrorCode::StepUpUsed,
        ErrorCode::StepUpCancelled,
        ErrorCode::StepUpConfirmed,
        ErrorCode::OrgNotSet,
        ErrorCode::OrgAlreadySet,
        ErrorCode::NotOrgKeyHolder,
        ErrorCode::BadSignature,
        ErrorCode::BadCertificate,
        ErrorCode::CertificateNamesNoIssuer,
        ErrorCode::CertificateIssuerMismatch,
        ErrorCode::EnrolmentMismatch,
        ErrorCode::EnrolmentRemoved,
        ErrorCode::NoSuchEnrolment,
        ErrorCode::NotAnApprover,
        ErrorCode::UnknownApprover,
        ErrorCode::ApproverRevoked,
        ErrorCode::SyncedPasskeyRefused,
        ErrorCode::PushServiceNotAllowed,
        ErrorCode::RevocationRollback,
        ErrorCode::RevocationDiverged,
        ErrorCode::HostExists,
        ErrorCode::HostRevoked,
        ErrorCode::NoSuchHost,
        ErrorCode::UnknownHost,
        ErrorCode::NoSuchEntry,
        ErrorCode::EntryNotSigned,
        ErrorCode::EntryDeleted,
        ErrorCode::VersionConflict,
        ErrorCode::PolicyMismatch,
        ErrorCode::NoSuchRequest,
        ErrorCode::RequestInvalid,
        ErrorCode::RequestExpired,
        ErrorCode::RequestNotPending,
        ErrorCode::LeaseNotRunning,
        ErrorCode::DuplicateRequest,
        ErrorCode::AlreadyDecided,
        ErrorCode::ResponseMismatch,
        ErrorCode::SelfApprovalRefused,
        ErrorCode::WrongUser,
        ErrorCode::GatewayMethodNotAllowed,
        ErrorCode::GatewayInvalidCall,
        ErrorCode::GatewayNoEndpoint,
        ErrorCode::GatewayBodyTooLarge,
        ErrorCode::GatewayUpstreamFailed,
        ErrorCode::GatewayResponseTooLarge,
        ErrorCode::GatewayUpstreamTimeout,
        ErrorCode::WalletInvalidUrl,
        ErrorCode::WalletInvalidCredential,
        ErrorCode::WalletInvalidNetwork,
        ErrorCode::WalletInvalidAddress,
        ErrorCode::WalletPrivateMaterialRefused,
        ErrorCode::WalletEndpointNotFound,
        ErrorCode::WalletTokenNotFound,
        ErrorCode::WalletAddressNotFound,
        ErrorCode::WalletAddressLimit,
        ErrorCode::WalletOriginExists,
        ErrorCode::WalletOriginUnset,
        ErrorCode::WalletOriginNeedsNoEnvelope,
        ErrorCode::WalletEnvelopeExists,
        ErrorCode::WalletEnvelopeInvalid,
    ];

    /// The code's wire form.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::InvalidEncoding => "invalid_encoding",
            ErrorCode::InvalidName => "invalid_name",
            ErrorCode::InvalidRole => "invalid_role",
            ErrorCode::InvalidExpiry => "invalid_expiry",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::InvalidAction => "invalid_action",
            ErrorCode::InvalidPollToken => "invalid_poll_token",
            ErrorCode::InvalidRevocations => "invalid_revocations",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::TooManyOpenRequests => "too_many_open_requests",
            ErrorCode::TooManyStreams => "too_many_streams",
            ErrorCode::TooManyOrgRequests => "too_many_org_requests",
            ErrorCode::RequestTimeout => "request_timeout",
            ErrorCode::Internal => "internal",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Gone => "gone",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::InvalidSession => "invalid_session",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::SessionRevoked => "session_revoked",
            ErrorCode::SessionNotFound => "session_not_found",
            ErrorCode::TokenInvalid => "token_invalid",
            ErrorCode::TokenAndCookie => "token_and_cookie",
            ErrorCode::TokenNotAllowed => "token_not_allowed",
            ErrorCode::TokenScope => "token_scope",
            ErrorCode::TokenNotFound => "token_not_found",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::CrossOrigin => "cross_origin",
            ErrorCode::RegistrationRefused => "registration_refused",
            ErrorCode::SetupCodeInvalid => "setup_code_invalid",
            ErrorCode::AlreadyClaimed => "already_claimed",
            ErrorCode::ChallengeInvalid => "challenge_invalid",
            ErrorCode::ChallengeExpired => "challenge_expired",
            ErrorCode::OriginMismatch => "origin_mismatch",
            ErrorCode::RpIdMismatch => "rp_id_mismatch",
            ErrorCode::UserNotVerified => "user_not_verified",
            ErrorCode::UserNotPresent => "user_not_present",
            ErrorCode::CounterRegression => "counter_regression",
            ErrorCode::CredentialExists => "credential_exists",
            ErrorCode::ClientDataInvalid => "client_data_invalid",
            ErrorCode::UnknownCredential => "unknown_credential",
            ErrorCode::WebauthnFailed => "webauthn_failed",
            ErrorCode::WebauthnCrossOrigin => "webauthn_cross_origin",
            ErrorCode::WebauthnClientDataInvalid => "webauthn_client_data_invalid",
            ErrorCode::WebauthnCredentialIdTooLong => "webauthn_credential_id_too_long",
            ErrorCode::WebauthnAttestationInvalid => "webauthn_attestation_invalid",
            ErrorCode::WebauthnAuthenticatorDataInvalid => "webauthn_authenticator_data_invalid",
            ErrorCode::UserNotFound => "user_not_found",
            ErrorCode::CannotDeleteSelf => "cannot_delete_self",
            ErrorCode::LastAdmin => "last_admin",
            ErrorCode::PasskeyNotFound => "passkey_not_found",
            ErrorCode::NotYourPasskey => "not_your_passkey",
            ErrorCode::LastPasskey => "last_passkey",
            ErrorCode::NoSuchInvite => "no_such_invite",
            ErrorCode::StepUpRequired => "step_up_required",
            ErrorCode::StepUpInvalid => "step_up_invalid",
            ErrorCode::StepUpMismatch => "step_up_mismatch",
            ErrorCode::StepUpNotConfirmed => "step_up_not_confirmed",
            ErrorCode::StepUpExpired => "step_up_expired",
            ErrorCode::StepUpUsed => "step_up_used",
            ErrorCode::StepUpCancelled => "step_up_cancelled",
            ErrorCode::StepUpConfirmed => "step_up_confirmed",
            ErrorCode::OrgNotSet => "org_not_set",
            ErrorCode::OrgAlreadySet => "org_already_set",
            ErrorCode::NotOrgKeyHolder => "not_org_key_holder",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::BadCertificate => "bad_certificate",
            ErrorCode::CertificateNamesNoIssuer => "certificate_names_no_issuer",
            ErrorCode::CertificateIssuerMismatch => "certificate_issuer_mismatch",
            ErrorCode::EnrolmentMismatch => "enrolment_mismatch",
            ErrorCode::EnrolmentRemoved => "enrolment_removed",
            ErrorCode::NoSuchEnrolment => "no_such_enrolment",
            ErrorCode::NotAnApprover => "not_an_approver",
            ErrorCode::UnknownApprover => "unknown_approver",
            ErrorCode::ApproverRevoked => "approver_revoked",
            ErrorCode::SyncedPasskeyRefused => "synced_passkey_refused",
            ErrorCode::PushServiceNotAllowed => "push_service_not_allowed",
            ErrorCode::RevocationRollback => "revocation_rollback",
            ErrorCode::RevocationDiverged => "revocation_diverged",
            ErrorCode::HostExists => "host_exists",
            ErrorCode::HostRevoked => "host_revoked",
            ErrorCode::NoSuchHost => "no_such_host",
            ErrorCode::UnknownHost => "unknown_host",
            ErrorCode::NoSuchEntry => "no_such_entry",
            ErrorCode::EntryNotSigned => "entry_not_signed",
            ErrorCode::EntryDeleted => "entry_deleted",
            ErrorCode::VersionConflict => "version_conflict",
            ErrorCode::PolicyMismatch => "policy_mismatch",
            ErrorCode::NoSuchRequest => "no_such_request",
            ErrorCode::RequestInvalid => "request_invalid",
            ErrorCode::RequestExpired => "request_expired",
            ErrorCode::RequestNotPending => "request_not_pending",
            ErrorCode::LeaseNotRunning => "lease_not_running",
            ErrorCode::DuplicateRequest => "duplicate_request",
            ErrorCode::AlreadyDecided => "already_decided",
            ErrorCode::ResponseMismatch => "response_mismatch",
            ErrorCode::SelfApprovalRefused => "self_approval_refused",
            ErrorCode::WrongUser => "wrong_user",
            ErrorCode::GatewayMethodNotAllowed => "gateway_method_not_allowed",
            ErrorCode::GatewayInvalidCall => "gateway_invalid_call",
            ErrorCode::GatewayNoEndpoint => "gateway_no_endpoint",
            ErrorCode::GatewayBodyTooLarge => "gateway_body_too_large",
            ErrorCode::GatewayUpstreamFailed => "gateway_upstream_failed",
            ErrorCode::GatewayResponseTooLarge => "gateway_response_too_large",
            ErrorCode::GatewayUpstreamTimeout => "gateway_upstream_timeout",
            ErrorCode::WalletInvalidUrl => "wallet_invalid_url",
            ErrorCode::WalletInvalidCredential => "wallet_invalid_credential",
            ErrorCode::WalletInvalidNetwork => "wallet_invalid_network",
            ErrorCode::WalletInvalidAddress => "wallet_invalid_address",
            ErrorCode::WalletPrivateMaterialRefused => "wallet_private_material_refused",
            ErrorCode::WalletEndpointNotFound => "wallet_endpoint_not_found",
            ErrorCode::WalletTokenNotFound => "wallet_token_not_found",
            ErrorCode::WalletAddressNotFound => "wallet_address_not_found",
            ErrorCode::WalletAddressLimit => "wallet_address_limit",
            ErrorCode::WalletOriginExists => "wallet_origin_exists",
            ErrorCode::WalletOriginUnset => "wallet_origin_unset",
            ErrorCode::WalletOriginNeedsNoEnvelope => "wallet_origin_needs_no_envelope",
            ErrorCode::WalletEnvelopeExists => "wallet_envelope_exists",
            ErrorCode::WalletEnvelopeInvalid => "wallet_envelope_invalid",
            ErrorCode::Unknown => "unknown",
        }
    }

    /// The HTTP status the server usually answers this code with (a few codes have a second,
    /// named in their documentation).
    pub const fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidRequest => 400,
            ErrorCode::InvalidQuery => 400,
            ErrorCode::InvalidEncoding => 400,
            ErrorCode::InvalidName => 400,
            ErrorCode::InvalidRole => 400,
            ErrorCode::InvalidExpiry => 400,
            ErrorCode::InvalidTarget => 400,
            ErrorCode::InvalidAction => 400,
            ErrorCode::InvalidPollToken => 400,
            ErrorCode::InvalidRevocations => 400,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::NotFound => 404,
            ErrorCode::RateLimited => 429,
            ErrorCode::TooManyOpenRequests => 429,
            ErrorCode::TooManyStreams => 429,
            ErrorCode::TooManyOrgRequests => 429,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::Internal => 500,
            ErrorCode::Conflict => 409,
            ErrorCode::Gone => 410,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::InvalidSession => 401,
            ErrorCode::SessionExpired => 401,
            ErrorCode::SessionRevoked => 401,
            ErrorCode::SessionNotFound => 404,
            ErrorCode::TokenInvalid => 401,
            ErrorCode::TokenAndCookie => 400,
            ErrorCode::TokenNotAllowed => 403,
            ErrorCode::TokenScope => 403,
            ErrorCode::TokenNotFound => 404,
            ErrorCode::Forbidden => 403,
            ErrorCode::CrossOrigin => 403,
            ErrorCode::RegistrationRefused => 403,
            ErrorCode::SetupCodeInvalid => 403,
            ErrorCode::AlreadyClaimed => 409,
            ErrorCode::ChallengeInvalid => 400,
            ErrorCode::ChallengeExpired => 400,
            ErrorCode::OriginMismatch => 401,
            ErrorCode::RpIdMismatch => 401,
            ErrorCode::UserNotVerified => 401,
            ErrorCode::UserNotPresent => 401,
            ErrorCode::CounterRegression => 401,
            ErrorCode::CredentialExists => 409,
            ErrorCode::ClientDataInvalid => 401,
            ErrorCode::UnknownCredential => 401,
            ErrorCode::WebauthnFailed => 401,
            ErrorCode::WebauthnCrossOrigin => 400,
            ErrorCode::WebauthnClientDataInvalid => 400,
            ErrorCode::WebauthnCredentialIdTooLong => 400,
            ErrorCode::WebauthnAttestationInvalid => 400,
            ErrorCode::WebauthnAuthenticatorDataInvalid => 400,
            ErrorCode::UserNotFound => 404,
            ErrorCode::CannotDeleteSelf => 409,
            ErrorCode::LastAdmin => 409,
            ErrorCode::PasskeyNotFound => 404,
            ErrorCode::NotYourPasskey => 403,
            ErrorCode::LastPasskey => 409,
            ErrorCode::NoSuchInvite => 404,
            ErrorCode::StepUpRequired => 403,
            ErrorCode::StepUpInvalid => 403,
            ErrorCode::StepUpMismatch => 403,
            ErrorCode::StepUpNotConfirmed => 403,
            ErrorCode::StepUpExpired => 410,
            ErrorCode::StepUpUsed => 409,
            ErrorCode::StepUpCancelled => 409,
            ErrorCode::StepUpConfirmed => 409,
            ErrorCode::OrgNotSet => 409,
            ErrorCode::OrgAlreadySet => 409,
            ErrorCode::NotOrgKeyHolder => 403,
            ErrorCode::BadSignature => 400,
            ErrorCode::BadCertificate => 400,
            ErrorCode::CertificateNamesNoIssuer => 400,
            ErrorCode::CertificateIssuerMismatch => 403,
            ErrorCode::EnrolmentMismatch => 400,
            ErrorCode::EnrolmentRemoved => 409,
            ErrorCode::NoSuchEnrolment => 404,
            ErrorCode::NotAnApprover => 403,
            ErrorCode::UnknownApprover => 400,
            ErrorCode::ApproverRevoked => 409,
            ErrorCode::SyncedPasskeyRefused => 403,
            ErrorCode::PushServiceNotAllowed => 403,
            ErrorCode::RevocationRollback => 409,
            ErrorCode::RevocationDiverged => 409,
            ErrorCode::HostExists => 409,
            ErrorCode::HostRevoked => 403,
            ErrorCode::NoSuchHost => 404,
            ErrorCode::UnknownHost => 403,
            ErrorCode::NoSuchEntry => 404,
            ErrorCode::EntryNotSigned => 400,
            ErrorCode::EntryDeleted => 409,
            ErrorCode::VersionConflict => 409,
            ErrorCode::PolicyMismatch => 400,
            ErrorCode::NoSuchRequest => 404,
            ErrorCode::RequestInvalid => 403,
            ErrorCode::RequestExpired => 409,
            ErrorCode::RequestNotPending => 409,
            ErrorCode::LeaseNotRunning => 409,
            ErrorCode::DuplicateRequest => 409,
            ErrorCode::AlreadyDecided => 409,
            ErrorCode::ResponseMismatch => 400,
            ErrorCode::SelfApprovalRefused => 403,
            ErrorCode::WrongUser => 403,
            ErrorCode::GatewayMethodNotAllowed => 403,
            ErrorCode::GatewayInvalidCall => 400,
            ErrorCode::GatewayNoEndpoint => 404,
            ErrorCode::GatewayBodyTooLarge => 413,
            ErrorCode::GatewayUpstreamFailed => 502,
            ErrorCode::GatewayResponseTooLarge => 502,
            ErrorCode::GatewayUpstreamTimeout => 504,
            ErrorCode::WalletInvalidUrl => 400,
            ErrorCode::WalletInvalidCredential => 400,
            ErrorCode::WalletInvalidNetwork => 400,
            ErrorCode::WalletInvalidAddress => 400,
            ErrorCode::WalletPrivateMaterialRefused => 400,
            ErrorCode::WalletEndpointNotFound => 404,
            ErrorCode::WalletTokenNotFound => 404,
            ErrorCode::WalletAddressNotFound => 404,
            ErrorCode::WalletAddressLimit => 409,
            ErrorCode::WalletOriginExists => 409,
            ErrorCode::WalletOriginUnset => 409,
            ErrorCode::WalletOriginNeedsNoEnvelope => 409,
            ErrorCode::WalletEnvelopeExists => 409,
            ErrorCode::WalletEnvelopeInvalid => 400,
            ErrorCode::Unknown => 500,
        }
    }

    /// Reads a wire code; a code this build does not know is [`ErrorCode::Unknown`].
    pub fn from_wire(code: &str) -> ErrorCode {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == code).unwrap_or(ErrorCode::Unknown)
    }
}

/// The schema is the list of wire strings the server sends (`unknown` is the client's reading
/// of a code it does not know, never sent).
impl schemars::JsonSchema for ErrorCode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ErrorCode".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        schemars::json_schema!({ "type": "string", "enum": codes })
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
