//! Tasks: spawn, join, abort, yield, poll order.

use std::time::Duration;

use detsim::{JoinError, PollOrder, Seed, Sim, time};

use super::Log;

#[test]
fn join_handle_yields_output_and_tasks_run_in_spawn_order() {
    // FIFO: tasks ready at the same instant run in the order they were spawned.
    let log = Log::default();
    let l = log.clone();
    let report = Sim::new(Seed::new(1))
        .run(async move {
            let handles: Vec<_> = (0..4)
                .map(|i| {
                    let l = l.clone();
                    detsim::spawn(async move {
                        l.push(format!("t{i}"));
                        i * 10
                    })
                })
                .collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        })
        .unwrap();
    assert_eq!(report.value, 60);
    assert_eq!(log.take(), ["t0", "t1", "t2", "t3"]);
}

#[test]
fn yield_now_interleaves_ready_tasks_round_robin() {
    // Each yield sends the task to the back of the ready queue.
    let log = Log::default();
    let l = log.clone();
    Sim::new(Seed::new(1))
        .run(async move {
            let tasks: Vec<_> = ["a", "b"]
                .into_iter()
                .map(|name| {
                    let l = l.clone();
                    detsim::spawn(async move {
                        for i in 0..3 {
                            l.push(format!("{name}{i}"));
                            detsim::yield_now().await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        })
        .unwrap();
    assert_eq!(log.take(), ["a0", "b0", "a1", "b1", "a2", "b2"]);
}

#[test]
fn abort_drops_the_task_and_the_handle_reports_it() {
    // An aborted task never runs again, its destructors run, and awaiting it says Aborted.
    struct Guard(Log);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.push("dropped");
        }
    }
    let log = Log::default();
    let l = log.clone();
    let report = Sim::new(Seed::new(1))
        .run(async move {
            let l2 = l.clone();
            let handle = detsim::spawn(async move {
                let _guard = Guard(l2.clone());
                loop {
                    time::sleep(Duration::from_secs(1)).await;
                    l2.at("tick");
                }
            });
            time::sleep(Duration::from_millis(2500)).await;
            let id = handle.id();
            handle.abort();
            l.at("aborted");
            time::sleep(Duration::from_secs(5)).await;
            (id, handle.await)
        })
        .unwrap();
    let (id, result) = report.value;
    assert_eq!(result, Err(JoinError::Aborted(id)));
    assert_eq!(
        log.take(),
        ["1000ms tick", "2000ms tick", "dropped", "2500ms aborted"]
    );
}

#[test]
fn a_task_can_abort_itself_and_finishes_its_poll() {
    // Self-abort: the current poll completes, then the task is dropped.
    let log = Log::default();
    let l = log.clone();
    Sim::new(Seed::new(1))
        .run(async move {
            let slot = std::rc::Rc::new(std::cell::RefCell::new(None::<detsim::JoinHandle<()>>));
            let s = slot.clone();
            let l2 = l.clone();
            let handle = detsim::spawn(async move {
                detsim::yield_now().await;
                s.borrow().as_ref().unwrap().abort();
                l2.push("after abort, same poll");
                detsim::yield_now().await;
                l2.push("never");
            });
            let id = handle.id();
            *slot.borrow_mut() = Some(handle);
            time::sleep(Duration::from_secs(1)).await;
            let handle = slot.borrow_mut().take().unwrap();
            assert_eq!(handle.await, Err(JoinError::Aborted(id)));
        })
        .unwrap();
    assert_eq!(log.take(), ["after abort, same poll"]);
}

#[test]
fn dropping_a_join_handle_detaches_the_task() {
    // The task keeps running without its handle.
    let log = Log::default();
    let l = log.clone();
    Sim::new(Seed::new(1))
        .run(async move {
            let l2 = l.clone();
            drop(detsim::spawn(async move {
                time::sleep(Duration::from_secs(1)).await;
                l2.at("detached ran");
            }));
            time::sleep(Duration::from_secs(2)).await;
        })
        .unwrap();
    assert_eq!(log.take(), ["1000ms detached ran"]);
}

fn order_of(seed: u64, order: PollOrder) -> Vec<String> {
    let log = Log::default();
    let l = log.clone();
    Sim::builder(Seed::new(seed))
        .poll_order(order)
        .build()
        .unwrap()
        .run(async move {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let l = l.clone();
                    detsim::spawn(async move { l.push(format!("{i}")) })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        })
        .unwrap();
    log.take()
}

#[test]
fn random_poll_order_is_a_seeded_permutation() {
    // Random order: deterministic per seed, different across seeds, FIFO unaffected by the seed.
    let fifo: Vec<String> = (0..8).map(|i| i.to_string()).collect();
    assert_eq!(order_of(1, PollOrder::Fifo), fifo);
    assert_eq!(order_of(2, PollOrder::Fifo), fifo);
    let a = order_of(1, PollOrder::Random);
    assert_eq!(a, order_of(1, PollOrder::Random));
    let mut sorted = a.clone();
    sorted.sort();
    assert_eq!(sorted, fifo, "a permutation of the same tasks");
    let distinct: std::collections::BTreeSet<Vec<String>> =
        (0..20).map(|s| order_of(s, PollOrder::Random)).collect();
    assert!(
        distinct.len() > 10,
        "seeds explore orders: {} distinct",
        distinct.len()
    );
}

#[test]
fn task_ids_are_deterministic_and_in_spawn_order() {
    // Ids count up from the body (task0) in spawn order, and are the same in every run.
    let ids = || {
        Sim::new(Seed::new(9))
            .run(async {
                let a = detsim::spawn(async {});
                let b = detsim::spawn(async {});
                (a.id().get(), b.id().get())
            })
            .unwrap()
            .value
    };
    assert_eq!(ids(), (1, 2));
    assert_eq!(ids(), ids());
}

#[test]
fn a_finished_tasks_kept_waker_never_wakes_a_later_task() {
    // A waker kept after its task ended wakes nothing, even once new tasks run
    // (an ended task's waker serves a new task only when nothing else holds it).
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use std::task::{Poll, Waker};
    let kept: Rc<RefCell<Option<Waker>>> = Rc::default();
    let polls = Rc::new(Cell::new(0u32));
    let (k, p) = (kept.clone(), polls.clone());
    let report = Sim::new(Seed::new(1))
        .run(async move {
            let k2 = k.clone();
            detsim::spawn(std::future::poll_fn(move |cx| {
                *k2.borrow_mut() = Some(cx.waker().clone());
                Poll::Ready(())
            }))
            .await
            .unwrap();
            // Tasks that end leave wakers nothing holds: later tasks reuse them.
            for _ in 0..3 {
                detsim::spawn(async {}).await.unwrap();
            }
            let p2 = p.clone();
            let waiter = detsim::spawn(std::future::poll_fn(move |_| {
                p2.set(p2.get() + 1);
                Poll::<()>::Pending
            }));
            time::sleep(Duration::from_millis(1)).await;
            k.borrow_mut().take().expect("the waker was kept").wake();
            time::sleep(Duration::from_millis(1)).await;
            waiter.abort();
        })
        .unwrap();
    assert_eq!(
        polls.get(),
        1,
        "the waiting task was polled once, at its spawn"
    );
    assert_eq!(report.elapsed.as_nanos(), 2_000_000);
    drop(kept);
}
