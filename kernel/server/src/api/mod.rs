//! The REST API under `/api/v1`, one module per zone. Every route is declared
//! with `utoipa::path` and registered through `OpenApiRouter`, so the OpenAPI
//! document at `/api/v1/openapi.json` is generated from the routes themselves.

pub mod audit;
pub mod docs;
pub mod documents;
pub mod findings;
pub mod isms;
pub mod maintenance;
pub mod schemas;
pub mod session;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::state::AppState;

/// The OpenAPI document's header; the paths come from the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "mmsm",
        description = "The ISMS kernel of the MMSM-SME methodology: schemas, generation, maintenance and audit zones. Authenticate with POST /api/v1/login, then send `Authorization: Bearer TOKEN` (or the session cookie with `X-CSRF-Token` on writes)."
    ),
    components(schemas(docs::AccountView, docs::AuditLogEntry))
)]
pub struct ApiDoc;

/// Every API route, with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(session::me))
        .routes(routes!(session::create_token, session::list_tokens))
        .routes(routes!(session::revoke_token))
        .routes(routes!(session::list_accounts, session::create_account))
        .routes(routes!(session::assign))
        .routes(routes!(session::unassign))
        .routes(routes!(session::set_password))
        .routes(routes!(session::remove_account))
        .routes(routes!(session::disable_account))
        .routes(routes!(session::enable_account))
        .routes(routes!(session::set_account_roles))
        .routes(routes!(schemas::list, schemas::import))
        .routes(routes!(schemas::show))
        .routes(routes!(schemas::clone))
        .routes(routes!(schemas::diff))
        .routes(routes!(isms::list, isms::generate))
        .routes(routes!(isms::show, isms::delete))
        .routes(routes!(isms::archive))
        .routes(routes!(isms::approval, isms::approve))
        .routes(routes!(isms::certificates, isms::certify))
        .routes(routes!(findings::certificate_pdf))
        .routes(routes!(documents::list))
        .routes(routes!(documents::pack))
        .routes(routes!(documents::show, documents::set))
        .routes(routes!(documents::approve))
        .routes(routes!(findings::list, findings::add))
        .routes(routes!(findings::show))
        .routes(routes!(findings::respond))
        .routes(routes!(findings::done))
        .routes(routes!(findings::close))
        .routes(routes!(findings::audits, findings::audit_held))
        .routes(routes!(isms::unarchive))
        .routes(routes!(isms::board))
        .routes(routes!(isms::risks))
        .routes(routes!(isms::plan))
        .routes(routes!(isms::history))
        .routes(routes!(isms::answer))
        .routes(routes!(isms::business))
        .routes(routes!(isms::answer_why))
        .routes(routes!(isms::answers_why))
        .routes(routes!(isms::asset))
        .routes(routes!(isms::rebase))
        .routes(routes!(isms::soa))
        .routes(routes!(isms::obligations))
        .routes(routes!(isms::soa_xlsx))
        .routes(routes!(isms::soa_pdf))
        .routes(routes!(isms::report))
        .routes(routes!(
            maintenance::list_procedures,
            maintenance::start_procedure
        ))
        .routes(routes!(maintenance::show_procedure))
        .routes(routes!(maintenance::advance_procedure))
        .routes(routes!(maintenance::culture))
        .routes(routes!(
            maintenance::culture_test,
            maintenance::take_culture_test
        ))
        .routes(routes!(maintenance::metric_values))
        .routes(routes!(maintenance::run_metrics))
        .routes(routes!(maintenance::list_evidence))
        .routes(routes!(maintenance::put_evidence))
        .routes(routes!(maintenance::follow_up_plan))
        .routes(routes!(maintenance::suggestions))
        .routes(routes!(maintenance::accept_suggestion))
        .routes(routes!(maintenance::reject_suggestion))
        .routes(routes!(maintenance::metrics))
        .routes(routes!(maintenance::schema_stats))
        .routes(routes!(maintenance::apply_stats))
        .routes(routes!(maintenance::scripts))
        .routes(routes!(audit::isms_audit))
        .routes(routes!(audit::log))
        .routes(routes!(audit::verify))
}
