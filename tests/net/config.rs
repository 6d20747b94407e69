//! Configuration and bad input: every invalid value is a clear error at
//! configuration time, and at run time for changes made while running.

use std::time::Duration;

use detsim::{Seed, Sim};
use detsim_net::{Byzantine, Latency, LinkProfile, Net, NetBuilder, NetError};

fn install(builder: NetBuilder) -> Result<Net, NetError> {
    let mut sim = Sim::new(Seed::new(1));
    sim.add_node("a", |_| async {}).unwrap();
    sim.add_node("b", |_| async {}).unwrap();
    builder.install(&mut sim)
}

fn message(builder: NetBuilder) -> String {
    install(builder).unwrap_err().to_string()
}

#[test]
fn invalid_values_are_rejected_at_install_with_clear_messages() {
    // Proves bad probabilities, NaN, zero bandwidth, bad latencies and zero limits are named in the error.
    let cases = [
        (
            Net::builder().default_link(LinkProfile::default().loss(1.5)),
            "invalid network configuration: loss probability 1.5 is outside [0, 1]",
        ),
        (
            Net::builder().link("a", "b", LinkProfile::default().duplicate(f64::NAN)),
            "invalid network configuration: duplicate probability NaN is outside [0, 1]",
        ),
        (
            Net::builder().default_link(LinkProfile::default().duplicate(-0.1)),
            "invalid network configuration: duplicate probability -0.1 is outside [0, 1]",
        ),
        (
            Net::builder().default_link(LinkProfile::default().byzantine(Byzantine {
                flip: 2.0,
                ..Byzantine::default()
            })),
            "invalid network configuration: byzantine flip probability 2 is outside [0, 1]",
        ),
        (
            Net::builder().default_link(LinkProfile::default().bandwidth(0)),
            "invalid network configuration: bandwidth must be above zero bytes per second (use None for unlimited)",
        ),
        (
            Net::builder().default_link(LinkProfile::default().latency(Latency::LogNormal {
                median: Duration::from_millis(1),
                sigma: -1.0,
            })),
            "invalid network configuration: log-normal sigma -1 must be finite and not negative",
        ),
        (
            Net::builder().stream_timeout(Duration::ZERO),
            "invalid network configuration: stream_timeout must be above zero",
        ),
        (
            Net::builder().datagram_size_max(0),
            "invalid network configuration: datagram_size_max must be above zero",
        ),
    ];
    for (builder, expected) in cases {
        assert_eq!(message(builder), expected);
    }
}

#[test]
fn unknown_names_are_rejected_at_install() {
    // Proves unknown nodes, zones and regions, and duplicate zones, are errors at install.
    assert_eq!(
        install(Net::builder().link("a", "zz", LinkProfile::default())).unwrap_err(),
        NetError::UnknownNode("zz".into())
    );
    assert_eq!(
        install(Net::builder().edge("zz", LinkProfile::cellular())).unwrap_err(),
        NetError::UnknownNode("zz".into())
    );
    assert_eq!(
        install(Net::builder().region("eu").zone("eu-1", "us")).unwrap_err(),
        NetError::UnknownRegion("us".into())
    );
    assert_eq!(
        install(Net::builder().place("a", "eu-1")).unwrap_err(),
        NetError::UnknownZone("eu-1".into())
    );
    assert_eq!(
        message(Net::builder().region("eu").zone("z", "eu").zone("z", "eu")),
        "invalid network configuration: zone \"z\" is defined twice"
    );
}

#[test]
fn run_time_changes_are_validated_too() {
    // Proves changes made while the world runs reject bad input and leave the model unchanged.
    let mut sim = Sim::new(Seed::new(1));
    sim.add_node("a", |_| async {}).unwrap();
    let net = Net::builder().install(&mut sim).unwrap();
    sim.enter(|_| {
        assert!(
            net.set_default_link(LinkProfile::default().loss(7.0))
                .is_err()
        );
        assert!(
            net.set_link("a", "a", Some(LinkProfile::default().bandwidth(0)))
                .is_err()
        );
        assert_eq!(
            net.set_link("a", "nope", None),
            Err(NetError::UnknownNode("nope".into()))
        );
        assert_eq!(
            net.place("a", "moon"),
            Err(NetError::UnknownZone("moon".into()))
        );
        assert_eq!(
            net.link_profile("a", "a").unwrap().latency,
            Latency::Constant(Duration::from_micros(10))
        );
    });
    assert_eq!(
        Net::builder().install(&mut sim).unwrap_err().to_string(),
        "invalid network configuration: the network is already installed"
    );
}

#[test]
fn each_network_keeps_the_profiles_it_was_built_with() {
    // Networks built one after another on a thread each resolve their own
    // profiles, bit for bit (equal profiles may be shared between them, and a
    // profile with a negative zero is not equal to one with a positive zero).
    let profile_of = |builder: NetBuilder| {
        let mut sim = Sim::new(Seed::new(1));
        sim.add_node("a", |_| async {}).unwrap();
        sim.add_node("b", |_| async {}).unwrap();
        let net = builder.install(&mut sim).unwrap();
        sim.enter(|_| net.link_profile("a", "b").unwrap())
    };
    let lossy = LinkProfile::default().loss(0.25);
    assert_eq!(
        profile_of(Net::builder().default_link(lossy.clone())),
        lossy
    );
    assert_eq!(profile_of(Net::builder()), LinkProfile::default());
    let negative = LinkProfile::default().loss(-0.0);
    let got = profile_of(Net::builder().default_link(negative));
    assert!(got.loss.is_sign_negative(), "{got:?}");
    let got = profile_of(Net::builder());
    assert!(got.loss.is_sign_positive(), "{got:?}");
}

#[test]
fn each_world_finds_its_own_network_whichever_was_found_last() {
    // Worlds alive side by side on one thread: sockets and `Net::current`
    // in each reach that world's network (or none), even right after the
    // other world's network was the one found last.
    use detsim_net::UdpSocket;
    let world = |with_net: bool| {
        let mut sim = Sim::new(Seed::new(1));
        if with_net {
            Net::builder().install(&mut sim).unwrap();
        }
        sim.add_node("a", |_| async {}).unwrap();
        sim
    };
    let bind = |sim: &mut Sim| {
        let a = sim.enter(|h| h.node("a").unwrap());
        sim.run(async move {
            detsim::handle()
                .spawn_on(a, async {
                    let socket = UdpSocket::bind(1)?;
                    let addr = socket.local_addr().to_string();
                    Ok::<_, NetError>((addr, Net::current()?.in_flight()))
                })
                .unwrap()
                .await
                .unwrap()
        })
        .unwrap()
        .value
    };
    let mut first = world(true);
    let mut second = world(true);
    let mut bare = world(false);
    for _ in 0..2 {
        // Each world's own port 1: the first binding of each is kept by
        // nobody, so every bind succeeds in its own network.
        assert_eq!(bind(&mut first), Ok(("a:1".to_string(), 0)));
        assert!(matches!(bind(&mut bare), Err(NetError::NotInstalled)));
        assert_eq!(bind(&mut second), Ok(("a:1".to_string(), 0)));
    }
    // A socket of the first world held open: binding its port again there
    // fails, in the second world it does not.
    let held = first.enter(|h| {
        let a = h.node("a").unwrap();
        let socket = std::rc::Rc::new(std::cell::RefCell::new(None));
        let slot = socket.clone();
        h.spawn_on(a, async move {
            *slot.borrow_mut() = Some(UdpSocket::bind(1).unwrap());
        })
        .unwrap();
        socket
    });
    first.run_for(std::time::Duration::from_millis(1)).unwrap();
    assert!(held.borrow().is_some());
    assert_eq!(bind(&mut second), Ok(("a:1".to_string(), 0)));
    assert!(matches!(bind(&mut first), Err(NetError::AddrInUse(_))));
    drop(first);
    drop(held);
    assert_eq!(bind(&mut second), Ok(("a:1".to_string(), 0)));
    drop(second);
    let mut third = world(true);
    assert!(matches!(bind(&mut bare), Err(NetError::NotInstalled)));
    assert_eq!(bind(&mut third), Ok(("a:1".to_string(), 0)));
}
