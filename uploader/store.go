package uploader

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// StoreFile is the queue and history database inside the state folder.
const StoreFile = "queue.db"

// ErrOwned means another zipline-tray process holds the queue database.
var ErrOwned = errors.New("another zipline-tray process owns the upload queue")

var (
	bucketItems   = []byte("items")
	bucketPaths   = []byte("paths")
	bucketRecords = []byte("records")
	bucketHistory = []byte("history")
	bucketMarks   = []byte("marks")
)

// store is the bbolt database. Every method is one transaction.
type store struct {
	db *bolt.DB
}

// openStore opens (creating) StateDir/queue.db, waiting at most wait for
// another process's lock. A held lock gives ErrOwned.
func openStore(stateDir string, wait time.Duration) (*store, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state folder: %w", err)
	}
	if wait <= 0 {
		wait = 50 * time.Millisecond
	}
	path := filepath.Join(stateDir, StoreFile)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: wait})
	if err == nil {
		// Batch gathers the workers' concurrent commits; a short delay keeps
		// a single upload from waiting on it.
		db.MaxBatchDelay = 2 * time.Millisecond
	}
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, ErrOwned
	}
	if err != nil {
		return nil, fmt.Errorf("open upload queue %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketItems, bucketPaths, bucketRecords, bucketHistory, bucketMarks} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open upload queue %s: %w", path, err)
	}
	return &store{db: db}, nil
}

func (s *store) close() error { return s.db.Close() }

func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// addItems records new items in one transaction. For an item whose force
// is false and whose file (path, size, mtime) was queued before, nothing is
// written and prev holds the earlier item.
func (s *store) addItems(its []*Item, force []bool) (prev []*Item, err error) {
	prev = make([]*Item, len(its))
	err = s.db.Update(func(tx *bolt.Tx) error {
		items, paths := tx.Bucket(bucketItems), tx.Bucket(bucketPaths)
		for k, it := range its {
			prev[k] = nil
			if !force[k] {
				if v := paths.Get([]byte(it.Path)); v != nil {
					var m pathMark
					if json.Unmarshal(v, &m) == nil && m.Size == it.Size && m.ModTime == it.ModTime.UnixNano() {
						p := &Item{ID: m.Item, Path: it.Path, State: StateDone}
						if data := items.Get(itob(uint64(m.Item))); data != nil {
							_ = json.Unmarshal(data, p)
						}
						prev[k] = p
						continue
					}
				}
			}
			id, err := items.NextSequence()
			if err != nil {
				return err
			}
			it.ID = ItemID(id)
			if err := putJSON(items, itob(id), it); err != nil {
				return err
			}
			if err := putJSON(paths, []byte(it.Path), pathMark{Item: it.ID, Size: it.Size, ModTime: it.ModTime.UnixNano()}); err != nil {
				return err
			}
		}
		return nil
	})
	return prev, err
}

// updateItem saves an item and makes it the path's latest, in one
// transaction (a queued file that changed before its upload started).
func (s *store) updateItem(it *Item) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := putJSON(tx.Bucket(bucketItems), itob(uint64(it.ID)), it); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketPaths), []byte(it.Path), pathMark{Item: it.ID, Size: it.Size, ModTime: it.ModTime.UnixNano()})
	})
}

// putItem saves an item's new state.
func (s *store) putItem(it *Item) error {
	return s.db.Batch(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketItems), itob(uint64(it.ID)), it)
	})
}

// finishMany saves done items with their upload records and history
// entries, in one transaction, so a crash never leaves a link without its
// record.
func (s *store) finishMany(outs []outcome) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for i := range outs {
			o := &outs[i]
			if err := putJSON(tx.Bucket(bucketItems), itob(uint64(o.it.ID)), &o.it); err != nil {
				return err
			}
			if o.record != "" {
				if err := putJSON(tx.Bucket(bucketRecords), []byte(o.record), o.rec); err != nil {
					return err
				}
			}
			if o.history != nil {
				if err := putHistory(tx, o.history); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func putHistory(tx *bolt.Tx, h *HistoryEntry) error {
	b := tx.Bucket(bucketHistory)
	if h.ID == 0 {
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		h.ID = id
	}
	return putJSON(b, itob(h.ID), h)
}

// loadPending returns the items that still need work. Items a crash left
// uploading or processing go back to queued: their upload may have reached
// the server, so such a file can be uploaded twice (at most one per worker
// that was busy at the crash).
func (s *store) loadPending(now time.Time, keepDone time.Duration) ([]*Item, error) {
	var out []*Item
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketItems)
		var stale [][]byte
		err := b.ForEach(func(k, v []byte) error {
			it := new(Item)
			if err := json.Unmarshal(v, it); err != nil {
				return nil // unreadable: skip, never fail the whole queue
			}
			switch {
			case it.State == StateUploading || it.State == StateProcessing:
				it.State = StateQueued
				it.Updated = now
				if err := putJSON(b, k, it); err != nil {
					return err
				}
				out = append(out, it)
			case it.State == StateFailed && it.Retrying:
				it.NextAttempt = now // a restart is a good moment to try again
				out = append(out, it)
			case it.State.Terminal() && now.Sub(it.Updated) > keepDone:
				stale = append(stale, append([]byte(nil), k...))
			default:
				out = append(out, it)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range stale { // the history and path marks stay
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

func (s *store) record(key string) (rec record, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRecords).Get([]byte(key))
		if v == nil {
			return nil
		}
		ok = json.Unmarshal(v, &rec) == nil
		return nil
	})
	return rec, ok, err
}

func (s *store) deleteRecord(key string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketRecords).Delete([]byte(key)) })
}

// history returns up to limit entries, newest first (limit <= 0: all).
func (s *store) history(limit int) ([]HistoryEntry, error) {
	var out []HistoryEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHistory).Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var h HistoryEntry
			if json.Unmarshal(v, &h) == nil {
				out = append(out, h)
			}
		}
		return nil
	})
	return out, err
}

func (s *store) historyEntry(id uint64) (h HistoryEntry, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketHistory).Get(itob(id))
		if v != nil {
			ok = json.Unmarshal(v, &h) == nil
		}
		return nil
	})
	return h, ok, err
}

// deleteHistory removes an entry and the upload record that points at the
// same server file, so its link is never reused.
func (s *store) deleteHistory(h HistoryEntry) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		recs := tx.Bucket(bucketRecords)
		var drop [][]byte
		_ = recs.ForEach(func(k, v []byte) error {
			var r record
			if json.Unmarshal(v, &r) == nil && r.FileID == h.FileID {
				drop = append(drop, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range drop {
			if err := recs.Delete(k); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketHistory).Delete(itob(h.ID))
	})
}

func (s *store) addHistory(h *HistoryEntry, recKey string, rec *record) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if recKey != "" && rec != nil {
			if err := putJSON(tx.Bucket(bucketRecords), []byte(recKey), rec); err != nil {
				return err
			}
		}
		return putHistory(tx, h)
	})
}

// mark returns a watched folder's last-watched time.
func (s *store) mark(folder string) (t time.Time, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMarks).Get([]byte(folder))
		if v == nil {
			return nil
		}
		ok = t.UnmarshalText(v) == nil
		return nil
	})
	return t, ok, err
}

// setMark moves a folder's mark forward (never back) to t.
func (s *store) setMark(folder string, t time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMarks)
		if v := b.Get([]byte(folder)); v != nil {
			var old time.Time
			if old.UnmarshalText(v) == nil && !t.After(old) {
				return nil
			}
		}
		data, err := t.UTC().MarshalText()
		if err != nil {
			return err
		}
		return b.Put([]byte(folder), data)
	})
}

// items returns every item still in the database, by ID.
func (s *store) items() ([]Item, error) {
	var out []Item
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketItems).ForEach(func(_, v []byte) error {
			var it Item
			if json.Unmarshal(v, &it) == nil {
				out = append(out, it)
			}
			return nil
		})
	})
	return out, err
}

// counter reads a number kept in the marks bucket (0 if absent).
func (s *store) counter(key string) (n uint64, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMarks).Get([]byte(key)); len(v) == 8 {
			n, ok = binary.BigEndian.Uint64(v), true
		}
		return nil
	})
	return n, ok, err
}

func (s *store) setCounter(key string, n uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMarks).Put([]byte(key), itob(n)) })
}
