//! Bounded parallelism on scoped threads, no runtime: work items are taken in order by a fixed
//! number of workers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex, PoisonError};

/// How many items per thread may be worked on or waiting beyond the first one the sink has
/// not taken yet, when items are counted (see [`par_ordered_with`] for weighed ones).
const AHEAD: usize = 4;

/// How much of the logs' stored size per thread may be worked on or waiting beyond the first
/// log the sink has not taken yet: a log's results (its matching lines, its exported text)
/// are at most about its size, so this bounds their memory while a slow sink holds the
/// workers back; counted by bytes, not logs, so that one large log ahead does not idle the
/// other threads behind a short window of small ones.
pub(crate) const AHEAD_BYTES: u64 = 32 << 20;

/// How many threads to use when the caller has no opinion: the cores, at most 8.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(8)
}

/// Applies `f` to every item on up to `threads` threads; results in input order.
pub(crate) fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let mut out: Vec<Option<R>> = Vec::new();
    out.resize_with(items.len(), || None);
    par_ordered(items, threads, f, |i, r| {
        if let Some(slot) = out.get_mut(i) {
            *slot = Some(r);
        }
    });
    out.into_iter().flatten().collect()
}

/// Applies `f` to every item on up to `threads` threads and hands each result to `sink` on
/// the calling thread in input order, as soon as it and all before it are done (results
/// stream while later items are still being worked on).
pub(crate) fn par_ordered<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
    sink: impl FnMut(usize, R),
) {
    let window = threads.max(1) * AHEAD;
    par_ordered_with(
        items,
        threads,
        Ahead {
            weight: |_: &T| 1,
            budget: window as u64,
        },
        || (),
        |_, item| f(item),
        sink,
    );
}

/// How far the workers of [`par_ordered_with`] may go beyond the first item the sink has not
/// taken yet: while the items from it to the one to start weigh at most `budget` together.
/// Each thread may always start one item, however heavy.
pub(crate) struct Ahead<W> {
    pub(crate) weight: W,
    pub(crate) budget: u64,
}

/// [`par_ordered`] with state of each thread's own, made by `init` on the thread that uses
/// it (what must not be shared item by item: a regex's match cache is, behind a lock), and a
/// window of weighed items ([`Ahead`]).
///
/// The calling thread is one of the workers and takes the others' results between its own
/// items: a thread that only waited would be woken for every item, and on a machine with as
/// many cores as workers each wake-up costs a context switch (a fifth of a local search's
/// time on two cores).
///
/// Backpressure: no item is started beyond the window, so when `sink` is slow (output to a
/// slow reader) the workers wait instead of piling up results.
pub(crate) fn par_ordered_with<T: Sync, S, R: Send>(
    items: &[T],
    threads: usize,
    ahead: Ahead<impl Fn(&T) -> u64>,
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &T) -> R + Sync,
    mut sink: impl FnMut(usize, R),
) {
    let threads = threads.clamp(1, items.len().max(1));
    let mut state = init();
    if threads == 1 {
        for (i, item) in items.iter().enumerate() {
            sink(i, f(&mut state, item));
        }
        return;
    }
    // The weight of the items before each one, so a window's weight is one subtraction.
    let mut before = Vec::with_capacity(items.len() + 1);
    let mut total = 0u64;
    before.push(0);
    for item in items {
        total = total.saturating_add((ahead.weight)(item));
        before.push(total);
    }
    let budget = ahead.budget;
    let in_window = |i: usize, want: usize| {
        i < want + threads || before[i + 1].saturating_sub(before[want]) <= budget
    };
    let next = AtomicUsize::new(0);
    // The first item not yet handed to the sink, and a wake-up for workers waiting on it.
    let gate = (Mutex::new(0usize), Condvar::new());
    let (tx, rx) = mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        for _ in 1..threads {
            let tx = tx.clone();
            let (next, init, f, gate, in_window) = (&next, &init, &f, &gate, &in_window);
            scope.spawn(move || {
                let mut state = init();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    {
                        let mut want = gate.0.lock().unwrap_or_else(PoisonError::into_inner);
                        while !in_window(i, *want) {
                            want = gate.1.wait(want).unwrap_or_else(PoisonError::into_inner);
                        }
                    }
                    if tx.send((i, f(&mut state, item))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut waiting = BTreeMap::new();
        let mut want = 0;
        let mut deliver = |i: usize, r: R| {
            waiting.insert(i, r);
            let before = want;
            while let Some(r) = waiting.remove(&want) {
                sink(want, r);
                want += 1;
            }
            if want != before {
                *gate.0.lock().unwrap_or_else(PoisonError::into_inner) = want;
                gate.1.notify_all();
            }
            want
        };
        let mut delivered = 0;
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            // Too far ahead: take the others' results first (the items before this one were
            // all started, so they come).
            while !in_window(i, delivered) {
                match rx.recv() {
                    Ok((j, r)) => delivered = deliver(j, r),
                    Err(_) => break,
                }
            }
            let r = f(&mut state, item);
            delivered = deliver(i, r);
            while let Ok((j, r)) = rx.try_recv() {
                delivered = deliver(j, r);
            }
        }
        for (i, r) in rx {
            deliver(i, r);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::{par_map, par_ordered};

    /// Results reach the sink in input order however long each item takes and whichever
    /// thread (the caller's included) worked on it.
    #[test]
    fn results_stream_in_input_order() {
        let items: Vec<u64> = (0..200).collect();
        for threads in [1, 2, 3, 8, 500] {
            let mut seen = Vec::new();
            par_ordered(
                &items,
                threads,
                |&i| {
                    // Early items take longest, so later ones finish first.
                    std::thread::sleep(std::time::Duration::from_micros((200 - i) * 20));
                    (i, std::thread::current().id())
                },
                |at, (i, _)| seen.push((at, i)),
            );
            let want: Vec<(usize, u64)> = items.iter().map(|&i| (i as usize, i)).collect();
            assert_eq!(seen, want, "threads {threads}");
        }
        assert_eq!(par_map(&items, 4, |&i| i * 2)[199], 398);
    }

    /// A slow sink holds the workers back: no item starts more than the window ahead of the
    /// sink.
    #[test]
    fn a_slow_sink_holds_the_workers_back() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let items: Vec<usize> = (0..100).collect();
        let started = AtomicUsize::new(0);
        let mut ahead = 0;
        par_ordered(
            &items,
            3,
            |&i| {
                started.fetch_max(i + 1, Ordering::SeqCst);
                i
            },
            |at, _| {
                std::thread::sleep(std::time::Duration::from_millis(2));
                ahead = ahead.max(started.load(Ordering::SeqCst).saturating_sub(at));
            },
        );
        assert!(ahead <= 3 * super::AHEAD + 1, "{ahead}");
        assert!(par_map(&Vec::<u64>::new(), 4, |&i| i).is_empty());
    }

    /// Weighed items: a slow sink holds the workers to the budget (plus one item a thread),
    /// and an item heavier than the whole budget still runs, in order.
    #[test]
    fn a_weighed_window_holds_the_budget_and_lets_heavy_items_through() {
        use super::{par_ordered_with, Ahead};
        use std::sync::atomic::{AtomicUsize, Ordering};
        // Item i weighs 10, except every 25th, which weighs more than the budget.
        let items: Vec<usize> = (0..100).collect();
        let weight = |&i: &usize| if i % 25 == 0 { 1_000 } else { 10 };
        let started = AtomicUsize::new(0);
        let (mut ahead, mut seen) = (0, Vec::new());
        par_ordered_with(
            &items,
            3,
            Ahead { weight, budget: 50 },
            || (),
            |_, &i| {
                started.fetch_max(i + 1, Ordering::SeqCst);
                i
            },
            |at, i| {
                std::thread::sleep(std::time::Duration::from_millis(1));
                ahead = ahead.max(started.load(Ordering::SeqCst).saturating_sub(at));
                seen.push((at, i));
            },
        );
        // 50 / 10 = 5 items in the window, or one per thread when the next is heavy.
        assert!(ahead <= 5 + 1, "{ahead}");
        assert_eq!(seen, items.iter().map(|&i| (i, i)).collect::<Vec<_>>());
    }
}
