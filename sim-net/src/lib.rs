//! detsim-net: the simulated network of a detsim world.
//!
//! Nodes bind datagram sockets ([`UdpSocket`]) and streams ([`TcpListener`],
//! [`TcpStream`]) at addresses like `n1:7000` ([`Addr`]). Every message
//! crosses a directed link whose [`LinkProfile`] draws its fate from the
//! world's seed: latency ([`Latency`]: constant, uniform, normal,
//! log-normal, exponential, Pareto), loss, duplication, bandwidth with a
//! queue, reordering (or FIFO), [`Byzantine`] corruption and replays, and
//! [`Intermittent`] outages. [`Net`] changes the model while the world runs:
//! profiles, zones and regions, every kind of [`Partition`], clogs, heals.
//! Protocol code generic over [`Transport`] runs unchanged on a real network
//! (`real::RealNet`, feature `tokio`), and needs only the crate's surface
//! (`default-features = false`): the simulated network (the default feature
//! `sim`) is for its tests. See [Features](#features).
//!
//! ```
//! # #[cfg(feature = "sim")] {
//! use std::time::Duration;
//! use detsim::{Seed, Sim};
//! use detsim_net::{Net, UdpSocket};
//!
//! let mut sim = Sim::new(Seed::new(7));
//! Net::builder().install(&mut sim).unwrap();
//! sim.add_node("n1", |_| async {
//!     let socket = UdpSocket::bind(7000).unwrap();
//!     let d = socket.recv().await.unwrap();
//!     assert_eq!(d.payload, b"hello");
//! }).unwrap();
//! sim.add_node("n2", |_| async {
//!     UdpSocket::bind(7000).unwrap().send_to(b"hello", "n1:7000").unwrap();
//! }).unwrap();
//! sim.run_for(Duration::from_secs(1)).unwrap();
//! # }
//! ```
//!
//! # Code map
//!
//! The surface, compiled in every build:
//!
//! - `transport.rs`: [`Transport`], [`DatagramSocket`], [`StreamListener`]
//!   (and, with `sim`, their implementations on the simulated types).
//! - `typed.rs`: [`encode`]/[`decode`] (postcard), [`Typed`] datagrams,
//!   [`Framed`] streams, on any implementation of the traits.
//! - `error.rs`: [`NetError`]; `host_port.rs`: `node:port` text.
//! - `real.rs`: the tokio backend (feature `tokio`).
//!
//! The simulated network (feature `sim`):
//!
//! - `net.rs`: [`Net`], the extension: crash/restart hooks and every model
//!   change at run time (profiles, placement, partitions, clogs).
//! - `builder.rs`: [`NetBuilder`], the validated configuration.
//! - `state.rs`: the network's state; the send path (`route`, the link
//!   model) and the arrival path (`arrive`: cuts, outages, clogs).
//! - `flight.rs`: messages in flight and the delivery queue (one world
//!   timer for the earliest arrival).
//! - `link.rs`: [`LinkProfile`], [`Byzantine`], [`Intermittent`] and the
//!   per-link runtime state; `latency.rs`: [`Latency`]; `math.rs`: portable `ln`/`exp`.
//! - `topology.rs`: zones, regions and the profile matrix between them.
//! - `partition.rs`: [`Partition`], [`PartitionId`] and which links a rule cuts.
//! - `clog.rs`: holding and releasing traffic.
//! - `addr.rs`: [`Addr`], [`ToAddr`]; `datagram.rs`: [`UdpSocket`], [`Datagram`];
//!   `stream.rs`: [`TcpListener`], [`TcpStream`] (handshake, retransmission,
//!   reassembly, window, resets, timeouts).
//! - `trace.rs`: the `net.*` trace events and [`NetEvent`] to read them back.
//! - `compat/`: tokio's I/O traits (feature `tokio-io`) and hyper's runtime
//!   traits (`SimExecutor`, `SimTimer`; feature `hyper`) on the simulated
//!   types, for existing tokio and hyper code.
//!
//! # Features
//!
//! - `sim` (default): the simulated network, an extension of a detsim
//!   world (it brings in `detsim` with its simulator). Without it
//!   (`default-features = false`) only the surface compiles: the traits,
//!   [`NetError`], the typed codecs and, with `tokio`, the real backend;
//!   `futures`, `serde` and `postcard` are its only dependencies (and tokio
//!   with `tokio`). The surface's paths are the same in both builds. The
//!   simulated address type, `Addr`, names a node of a world, so it is the
//!   simulator's: protocol code names addresses as `T::Addr` of its
//!   [`Transport`] `T`, and makes them with [`Transport::resolve`].
//! - `tokio`: `real::RealNet`, the [`Transport`] traits over tokio UDP/TCP
//!   on 127.0.0.1 (needs no `sim`).
//! - `tokio-io` (implies `sim`): `tokio::io::AsyncRead`/`AsyncWrite` for
//!   [`TcpStream`], so `tokio_util::codec::Framed`, `tokio::io::copy`,
//!   `BufReader` and the rest of tokio's I/O utilities work on simulated streams.
//! - `hyper` (implies `sim`): `hyper::rt::Read`/`Write` for [`TcpStream`],
//!   `SimExecutor` and `SimTimer`, so `hyper::server::conn::http1`/`http2`
//!   and `hyper::client::conn` run in a world.
//!
#![cfg_attr(
    not(feature = "sim"),
    doc = "[`Addr`]: #features
[`ToAddr`]: #features
[`UdpSocket`]: #features
[`Datagram`]: #features
[`TcpListener`]: #features
[`TcpStream`]: #features
[`LinkProfile`]: #features
[`Latency`]: #features
[`Byzantine`]: #features
[`Intermittent`]: #features
[`Net`]: #features
[`NetBuilder`]: #features
[`Partition`]: #features
[`PartitionId`]: #features
[`NetEvent`]: #features
"
)]

/// Items of the simulated network: compiled with the `sim` feature only.
macro_rules! cfg_sim {
    ($($item:item)*) => {
        $(
            #[cfg(feature = "sim")]
            $item
        )*
    };
}

// The surface: the traits, their error, the codecs, the real backend.
mod error;
#[cfg(any(feature = "sim", feature = "tokio"))]
mod host_port;
mod transport;
mod typed;

#[cfg(feature = "tokio")]
pub mod real;

pub use error::NetError;
pub use transport::{DatagramSocket, StreamListener, Transport};
pub use typed::{FRAME_SIZE_MAX, Framed, Typed, decode, encode};

// The simulated network.
cfg_sim! {
    mod addr;
    mod builder;
    mod clog;
    #[cfg(any(feature = "tokio-io", feature = "hyper"))]
    mod compat;
    mod datagram;
    mod flight;
    mod latency;
    mod link;
    mod math;
    mod net;
    mod partition;
    mod plan;
    mod recycle;
    mod slab;
    mod state;
    mod stream;
    mod topology;
    mod trace;

    pub use addr::{Addr, ToAddr};
    pub use builder::NetBuilder;
    #[cfg(feature = "hyper")]
    pub use compat::{SimExecutor, SimSleep, SimTimer};
    pub use datagram::{Datagram, UdpSocket};
    pub use latency::Latency;
    pub use link::{Byzantine, Intermittent, LinkProfile};
    pub use net::Net;
    pub use partition::{Partition, PartitionId};
    pub use stream::{TcpListener, TcpStream};
    pub use trace::{DropReason, MessageKind, NetEvent, NetEventKind};
}
