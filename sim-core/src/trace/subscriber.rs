//! `tracing` events from code in a world: stamped with virtual time and node,
//! printed as `t=12.345678s n2 INFO target: message`, and added to the trace.
//!
//! Events at `INFO` and above always enter the trace (so the fingerprint does
//! not depend on the console filter); the console prints what `SIM_LOG` or
//! [`SimBuilder::console`](crate::SimBuilder::console) allows.
//!
//! Records of the `log` facade (which many crates still use, and `slog` can
//! bridge to) are turned into `tracing` events by `tracing-log`'s
//! `LogTracer`, installed as the process's logger when the first world runs
//! (unless the program installed another logger first), so they are stamped
//! and traced the same way.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Level, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

use crate::error::SimError;
use crate::trace::EventKind;
use crate::world::with_world_opt;

/// The most verbose level printed on the console (`None`: nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConsoleLevel(Option<Level>);

/// Events at this level and above always enter the trace.
const TRACE_LEVEL: Level = Level::INFO;

impl ConsoleLevel {
    pub(crate) fn off() -> ConsoleLevel {
        ConsoleLevel(None)
    }

    pub(crate) fn parse(word: &str) -> Result<ConsoleLevel, SimError> {
        let level = match word.trim().to_ascii_lowercase().as_str() {
            "off" | "none" => None,
            "error" => Some(Level::ERROR),
            "warn" => Some(Level::WARN),
            "info" | "" => Some(Level::INFO),
            "debug" => Some(Level::DEBUG),
            "trace" => Some(Level::TRACE),
            _ => {
                return Err(SimError::InvalidConfig(format!(
                    "log level {word:?} is not one of off, error, warn, info, debug, trace"
                )));
            }
        };
        Ok(ConsoleLevel(level))
    }

    pub(crate) fn from_env() -> Result<ConsoleLevel, SimError> {
        match std::env::var("SIM_LOG") {
            Ok(word) => ConsoleLevel::parse(&word)
                .map_err(|e| SimError::InvalidConfig(format!("SIM_LOG: {e}"))),
            Err(_) => Ok(ConsoleLevel(Some(Level::INFO))),
        }
    }

    pub(crate) fn allows(self, level: Level) -> bool {
        self.0.is_some_and(|max| level <= max)
    }
}

struct SimLayer;

impl<S> Layer<S> for SimLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // Whether an event is wanted depends on the world running at the time.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        let level = *metadata.level();
        with_world_opt(|w| level <= TRACE_LEVEL || w.console.allows(level)).unwrap_or(false)
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        // A `log` record's own target and level, not the bridge's.
        let normalized = event.normalized_metadata();
        let metadata = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let level = *metadata.level();
        let mut message = String::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                message.push_str(span.name());
                message.push_str(": ");
            }
        }
        event.record(&mut MessageVisitor(&mut message));
        with_world_opt(|w| {
            let node = w.current_node();
            if w.console.allows(level) {
                let name = node.map_or_else(|| "sim".into(), |n| w.node_name(n));
                eprintln!(
                    "t={} {} {:>5} {}: {}",
                    w.now(),
                    name,
                    level,
                    metadata.target(),
                    message
                );
            }
            if level <= TRACE_LEVEL {
                w.emit(
                    node,
                    EventKind::Log {
                        level: level.to_string(),
                        target: metadata.target().to_owned(),
                        message,
                    },
                );
            }
        });
    }
}

struct MessageVisitor<'a>(&'a mut String);

impl Visit for MessageVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name().starts_with("log.") {
            // The `log` bridge's bookkeeping (target, module, file, line).
            return;
        }
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name().starts_with("log.") {
            return;
        }
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

thread_local! {
    static DISPATCH: tracing::Dispatch =
        tracing::Dispatch::new(tracing_subscriber::registry().with(SimLayer));
}

/// Runs `f` with the simulation's `tracing` subscriber as this thread's default.
pub(crate) fn dispatch<R>(f: impl FnOnce() -> R) -> R {
    static LOG_BRIDGE: std::sync::Once = std::sync::Once::new();
    LOG_BRIDGE.call_once(|| {
        // Fails only if the program installed its own `log` logger: then
        // its records go there, as the program asked.
        let _ = tracing_log::LogTracer::init();
    });
    // Borrowed: `with_default` keeps its own clone while `f` runs.
    DISPATCH.with(|dispatch| tracing::dispatcher::with_default(dispatch, f))
}
