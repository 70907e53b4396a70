//! The grouping step of the matcher: which searching tickets of one mode and region match now.
//!
//! Oldest ticket first, each unmatched ticket (the anchor) gathers the unmatched tickets whose
//! skill lies within its window, closest first, while their players fit, until the room is
//! full. The group forms when the room is full, or short of full once the anchor has waited
//! `--match-wait`. Tickets sorted by skill sit in a linked list from which matched tickets are
//! unlinked, so an anchor walks outwards from its own place in skill order and meets only
//! unmatched tickets: a pass costs O(n log n) for the two sorts plus, per anchor, the tickets
//! it looks at, which stop at a full room or at the window's edge.

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
}

impl Grouping {
    /// The skill window of a ticket that has waited `waited`.
    pub fn window(&self, waited: Duration) -> f64 {
        self.skill_window + self.widen_per_sec * waited.as_secs_f64()
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
        );
        let size: usize = members.iter().map(|&i| queue[i].players).sum();
        if size == rules.capacity || waited >= rules.match_wait {
            for &i in &members {
                matched[i] = true;
                list.unlink(place[i]);
            }
            groups.push(members);
        }
    }
    groups
}

/// The anchor at skill position `at` and the unmatched tickets within `window` of its skill,
/// closest first, that fit in a room of `capacity`.
fn gather(
    queue: &[Waiting],
    by_skill: &[usize],
    list: &SkillList,
    at: usize,
    window: f64,
    capacity: usize,
) -> Vec<usize> {
    let anchor = by_skill[at];
    let skill = queue[anchor].skill;
    let distance = |p: usize| (p != NONE).then(|| (queue[by_skill[p]].skill - skill).abs());
    let mut members = vec![anchor];
    let mut size = queue[anchor].players;
    let (mut left, mut right) = (list.prev[at], list.next[at]);
    while size < capacity {
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
}
