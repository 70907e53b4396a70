//! The storage trait behind lobby state, and its in-memory implementation on `DashMap`.
//!
//! Services hold an `Arc<dyn Store<V>>`. The trait is synchronous and changes values through
//! closures run under the map's lock, which only an in-process map can honour. Nodes of a
//! cluster (`--redis`, [`crate::cluster`]) keep it so: each lobby, ticket and seat lives on one
//! node, in this store, and requests for it are routed to that node.

use dashmap::DashMap;

/// A concurrent map from string keys to values.
pub trait Store<V>: Send + Sync + std::fmt::Debug {
    /// Inserts or replaces a value.
    fn insert(&self, key: String, value: V);
    /// A copy of one value.
    fn get(&self, key: &str) -> Option<V>;
    /// Removes and returns one value.
    fn remove(&self, key: &str) -> Option<V>;
    /// Removes and returns one value if `remove` accepts it, atomically with respect to other
    /// calls on the same key.
    fn remove_if(&self, key: &str, remove: &mut dyn FnMut(&V) -> bool) -> Option<V>;
    /// Changes one value in place, atomically with respect to other calls on the same key;
    /// returns whether the key existed.
    fn update(&self, key: &str, f: &mut dyn FnMut(&mut V)) -> bool;
    /// Keeps only the values for which `keep` returns true; `keep` may change them.
    fn retain(&self, keep: &mut dyn FnMut(&str, &mut V) -> bool);
    /// A copy of every value that `filter` accepts.
    fn collect(&self, filter: &mut dyn FnMut(&V) -> bool) -> Vec<V>;
    /// How many values are stored.
    fn len(&self) -> usize;
    /// Whether nothing is stored.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The in-memory store: everything lives in this process.
#[derive(Debug)]
pub struct MemoryStore<V>(DashMap<String, V>);

impl<V> Default for MemoryStore<V> {
    fn default() -> Self {
        Self(DashMap::new())
    }
}

impl<V: Clone + Send + Sync + std::fmt::Debug> Store<V> for MemoryStore<V> {
    fn insert(&self, key: String, value: V) {
        self.0.insert(key, value);
    }

    fn get(&self, key: &str) -> Option<V> {
        self.0.get(key).map(|v| v.value().clone())
    }

    fn remove(&self, key: &str) -> Option<V> {
        self.0.remove(key).map(|(_, v)| v)
    }

    fn remove_if(&self, key: &str, remove: &mut dyn FnMut(&V) -> bool) -> Option<V> {
        self.0.remove_if(key, |_, v| remove(v)).map(|(_, v)| v)
    }

    fn update(&self, key: &str, f: &mut dyn FnMut(&mut V)) -> bool {
        match self.0.get_mut(key) {
            Some(mut v) => {
                f(v.value_mut());
                true
            }
            None => false,
        }
    }

    fn retain(&self, keep: &mut dyn FnMut(&str, &mut V) -> bool) {
        self.0.retain(|k, v| keep(k, v));
    }

    fn collect(&self, filter: &mut dyn FnMut(&V) -> bool) -> Vec<V> {
        self.0
            .iter()
            .filter(|e| filter(e.value()))
            .map(|e| e.value().clone())
            .collect()
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_and_retain_change_values_in_place() {
        let s: MemoryStore<u32> = MemoryStore::default();
        s.insert("a".into(), 1);
        s.insert("b".into(), 2);
        assert!(s.update("a", &mut |v| *v += 10));
        assert!(!s.update("zz", &mut |v| *v += 10));
        assert_eq!(s.remove_if("b", &mut |v| *v > 5), None);
        s.retain(&mut |_, v| *v > 5);
        assert_eq!(s.get("a"), Some(11));
        assert_eq!(s.get("b"), None);
        assert_eq!(s.len(), 1);
    }
}
