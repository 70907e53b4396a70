//! The grouping step of the matcher: which searching tickets of one mode and region match now.
//!
//! Oldest ticket first, each unmatched ticket (the anchor) gathers the unmatched tickets whose
//! skill lies within its window, closest first, while their players fit, until the room is
//! full. The group forms when the room is full, or short of full once the anchor has waited
//! `--match-wait` (or `--fill-with-bots-after`, when that is sooner). Tickets sorted by skill sit in a linked list from which matched tickets are
//! unlinked, so an anchor walks outwards from its own place in skill order and meets only
//! unmatched tickets. An anchor stops at a full room, at its window's edge, when the room
//! left is smaller than the smallest party waiting, or after skipping 2 × capacity tickets
//! too big to fit; each ticket it takes fills at least one seat, so it looks at no more than
//! 3 × capacity tickets. A pass over n tickets for rooms of capacity c thus costs
//! O(n log n + n·c): the two sorts plus at most 3c steps per anchor.

use std::net::IpAddr;
use std::time::{Duration, Instant};

/// One searching ticket as the matcher sees it.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// The ticket id.
    pub id: String,
    /// Who created it.
    pub owner_addr: IpAddr,
    /// Skill rating.
    pub skill: f64,
    /// When it was created.
    pub created: Instant,
    /// Players on the ticket (the owner and the party).
    pub players: usize,
}

/// How groups form.
#[derive(Debug, Clone, Copy)]
pub struct Grouping {
    /// Players in a full room.
    pub capacity: usize,
    /// Skill window at the start.
    pub skill_window: f64,
    /// Window growth per second of waiting.
    pub widen_per_sec: f64,
    /// Wait after which a partial room is accepted.
    pub match_wait: Duration,
    /// Wait after which a partial room is accepted with bots in its missing seats.
    pub fill_with_bots_after: Option<Duration>,
}

impl Grouping {
    /// The skill window of a ticket that has waited `waited`.
    pub fn window(&self, waited: Duration) -> f64 {
        self.skill_window + self.widen_per_sec * waited.as_secs_f64()
    }

    /// Whether a group whose oldest ticket has waited `waited` forms short of a full room.
    pub fn accepts_short(&self, waited: Duration) -> bool {
        waited >= self.match_wait || self.fills_with_bots(waited)
    }

    /// Whether a group short of a full room whose oldest ticket has waited `waited` gets bots
    /// in its missing seats.
    pub fn fills_with_bots(&self, waited: Duration) -> bool {
        self.fill_with_bots_after
            .is_some_and(|after| waited >= after)
    }
}

/// No neighbour in the linked list.
const NONE: usize = usize::MAX;

/// Tickets in skill order, unlinked as they match.
struct SkillList {
    prev: Vec<usize>,
    next: Vec<usize>,
}

impl SkillList {
    /// A list over `len` positions, all linked.
    fn new(len: usize) -> Self {
        Self {
            prev: (0..len).map(|p| p.checked_sub(1).unwrap_or(NONE)).collect(),
            next: (0..len)
                .map(|p| if p + 1 < len { p + 1 } else { NONE })
                .collect(),
        }
    }

    /// Removes position `p`.
    fn unlink(&mut self, p: usize) {
        let (before, after) = (self.prev[p], self.next[p]);
        if before != NONE {
            self.next[before] = after;
        }
        if after != NONE {
            self.prev[after] = before;
        }
    }
}

/// How many tickets that do not fit an anchor may skip, per player of room capacity, before
/// it stops looking: this bounds the work per anchor whatever the mix of party sizes.
const SKIPS_PER_SEAT: usize = 2;

/// Unmatched tickets counted by party size, to know the smallest party still waiting.
struct SizeCounts(Vec<usize>);

impl SizeCounts {
    /// Counts the tickets of `queue`; sizes over `capacity` are counted as `capacity`.
    fn new(queue: &[Waiting], capacity: usize) -> Self {
        let mut counts = vec![0; capacity + 1];
        for w in queue {
            counts[w.players.min(capacity)] += 1;
        }
        Self(counts)
    }

    /// Takes a matched ticket of `players` out of the count.
    fn remove(&mut self, players: usize) {
        let last = self.0.len() - 1;
        let slot = &mut self.0[players.min(last)];
        *slot = slot.saturating_sub(1);
    }

    /// The smallest party size still waiting (the room's capacity when none is).
    fn smallest(&self) -> usize {
        self.0
            .iter()
            .position(|&n| n > 0)
            .unwrap_or(self.0.len() - 1)
    }
}

/// Splits one queue into the groups that match at `now`; each group is a list of indices
/// into `queue`, its anchor first.
pub fn form_groups(queue: &[Waiting], rules: &Grouping, now: Instant) -> Vec<Vec<usize>> {
    let mut by_skill: Vec<usize> = (0..queue.len()).collect();
    by_skill.sort_by(|&a, &b| queue[a].skill.total_cmp(&queue[b].skill));
    let mut place = vec![0; queue.len()];
    for (p, &i) in by_skill.iter().enumerate() {
        place[i] = p;
    }
    let mut by_age: Vec<usize> = (0..queue.len()).collect();
    by_age.sort_by_key(|&i| queue[i].created);

    let mut list = SkillList::new(queue.len());
    let mut sizes = SizeCounts::new(queue, rules.capacity);
    let mut matched = vec![false; queue.len()];
    let mut groups = Vec::new();
    for anchor in by_age {
        if matched[anchor] {
            continue;
        }
        let waited = now.saturating_duration_since(queue[anchor].created);
        let members = gather(
            queue,
            &by_skill,
            &list,
            place[anchor],
            rules.window(waited),
            rules.capacity,
            sizes.smallest(),
        );
        let size: usize = members.iter().map(|&i| queue[i].players).sum();
        if size == rules.capacity || rules.accepts_short(waited) {
            for &i in &members {
                matched[i] = true;
                list.unlink(place[i]);
                sizes.remove(queue[i].players);
            }
            groups.push(members);
        }
    }
    groups
}

/// The anchor at skill position `at` and the unmatched tickets within `window` of its skill,
/// closest first, that fit in a room of `capacity`. It stops at a full room, at the window's
/// edge, when the room left is smaller than `smallest` (the smallest party waiting), or after
/// skipping [`SKIPS_PER_SEAT`] × `capacity` tickets that do not fit.
fn gather(
    queue: &[Waiting],
    by_skill: &[usize],
    list: &SkillList,
    at: usize,
    window: f64,
    capacity: usize,
    smallest: usize,
) -> Vec<usize> {
    let anchor = by_skill[at];
    let skill = queue[anchor].skill;
    let distance = |p: usize| (p != NONE).then(|| (queue[by_skill[p]].skill - skill).abs());
    let mut members = vec![anchor];
    let mut size = queue[anchor].players;
    let mut skips_left = SKIPS_PER_SEAT * capacity;
    let (mut left, mut right) = (list.prev[at], list.next[at]);
    while size < capacity && capacity - size >= smallest {
        let take_left = match (distance(left), distance(right)) {
            (Some(l), Some(r)) => l <= r,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let p = if take_left { left } else { right };
        if distance(p).is_none_or(|d| d > window) {
            break;
        }
        let candidate = by_skill[p];
        if size + queue[candidate].players <= capacity {
            size += queue[candidate].players;
            members.push(candidate);
        } else if skips_left == 0 {
            break;
        } else {
            skips_left -= 1;
        }
        if take_left {
            left = list.prev[p];
        } else {
            right = list.next[p];
        }
    }
    members
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(capacity: usize) -> Grouping {
        Grouping {
            capacity,
            skill_window: 100.0,
            widen_per_sec: 50.0,
            match_wait: Duration::from_secs(5),
            fill_with_bots_after: None,
        }
    }

    fn waiting(now: Instant, age_secs: u64, skill: f64, players: usize) -> Waiting {
        Waiting {
            id: format!("{skill}"),
            owner_addr: IpAddr::from([127, 0, 0, 1]),
            skill,
            created: now - Duration::from_secs(age_secs),
            players,
        }
    }

    #[test]
    fn the_window_widens_with_waiting() {
        let r = rules(2);
        assert_eq!(r.window(Duration::ZERO), 100.0);
        assert_eq!(r.window(Duration::from_secs(4)), 300.0);
    }

    #[test]
    fn the_oldest_gathers_the_closest_within_its_window() {
        let now = Instant::now();
        let queue = [
            waiting(now, 3, 1000.0, 1),
            waiting(now, 2, 1200.0, 1),
            waiting(now, 1, 1090.0, 1),
            waiting(now, 1, 1030.0, 1),
            waiting(now, 0, 5000.0, 1),
        ];
        // The oldest has waited 3 s: its window is 250.
        let groups = form_groups(&queue, &rules(3), now);
        assert_eq!(groups, [vec![0, 3, 2]]);
    }

    #[test]
    fn a_short_group_forms_only_after_the_wait_and_parties_stay_whole() {
        let now = Instant::now();
        let queue = [waiting(now, 1, 1000.0, 2), waiting(now, 0, 1010.0, 2)];
        assert!(
            form_groups(&queue, &rules(3), now).is_empty(),
            "2 + 2 do not fit in 3"
        );
        let queue = [waiting(now, 6, 1000.0, 2), waiting(now, 0, 1010.0, 2)];
        assert_eq!(
            form_groups(&queue, &rules(3), now),
            [vec![0]],
            "alone after its wait"
        );
    }

    #[test]
    fn a_short_group_forms_with_bots_once_its_anchor_waited_the_fill_delay() {
        let now = Instant::now();
        let queue = [waiting(now, 2, 1000.0, 1)];
        let r = Grouping {
            fill_with_bots_after: Some(Duration::from_secs(2)),
            ..rules(3)
        };
        assert_eq!(form_groups(&queue, &r, now), [vec![0]], "alone with bots");
        assert!(r.fills_with_bots(Duration::from_secs(2)));
        assert!(!r.fills_with_bots(Duration::from_secs(1)));
        assert!(
            form_groups(&queue, &rules(3), now).is_empty(),
            "no bots: it waits"
        );
    }

    #[test]
    fn matched_tickets_are_not_offered_twice() {
        let now = Instant::now();
        let queue: Vec<Waiting> = (0..10)
            .map(|i| waiting(now, 10 - i, 1000.0 + i as f64, 1))
            .collect();
        let groups = form_groups(&queue, &rules(3), now);
        let mut seen: Vec<usize> = groups.iter().flatten().copied().collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), groups.iter().map(Vec::len).sum::<usize>());
        // Three full rooms; the youngest waited 1 s, too short to play short-handed.
        assert_eq!(groups.len(), 3);
        assert!(groups.iter().all(|g| g.len() == 3));
    }

    #[test]
    fn an_anchor_stops_after_skipping_twice_the_capacity_of_parties_that_do_not_fit() {
        let now = Instant::now();
        // An anchor of 6 in rooms of 10; 21 parties of 6 closer in skill than a party of 4.
        let mut queue = vec![waiting(now, 10, 1000.0, 6)];
        queue.extend((1..=21).map(|i| waiting(now, 0, 1000.0 + i as f64, 6)));
        queue.push(waiting(now, 0, 1050.0, 4));
        let groups = form_groups(&queue, &rules(10), now);
        assert_eq!(
            groups[0],
            [0],
            "the anchor plays short-handed after its wait"
        );
        // One party of 6 fewer (20 skips): the party of 4 is within reach and fills the room.
        queue.remove(21);
        let groups = form_groups(&queue, &rules(10), now);
        assert_eq!(groups[0], [0, 21]);
    }

    #[test]
    fn the_smallest_party_waiting_bounds_the_room_left() {
        let sizes = SizeCounts::new(&[waiting(Instant::now(), 0, 1.0, 6)], 10);
        assert_eq!(sizes.smallest(), 6);
        let mut sizes = SizeCounts::new(&[], 10);
        assert_eq!(sizes.smallest(), 10);
        sizes.remove(3);
        assert_eq!(sizes.smallest(), 10);
    }
}
