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
	// bucketHeld has, by folder, what it held when it last started being
	// watched (heldFiles); apart from the marks, which are written often.
	bucketHeld = []byte("held")
)

// store is the bbolt database and the link log in front of it. Every method
// is one transaction. Reads see the log's pending records; writes that could
// contradict one (deleting history or a record) fold the log first, in the
// same transaction.
type store struct {
	db  *bolt.DB
	log *linkLog
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
		for _, b := range [][]byte{bucketItems, bucketPaths, bucketRecords, bucketHistory, bucketMarks, bucketHeld} {
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
	log, err := openLinkLog(stateDir, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open upload queue: %w", err)
	}
	return &store{db: db, log: log}, nil
}

// close folds the link log and closes both files.
func (s *store) close() error {
	err := s.fold()
	if cerr := s.log.close(); err == nil {
		err = cerr
	}
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// update runs fn in a write transaction.
func (s *store) update(fn func(tx *bolt.Tx) error) error { return s.db.Update(fn) }

// updateFolding runs fn in a write transaction that first folds the link
// log, so fn sees (and may change) every announced upload.
func (s *store) updateFolding(fn func(tx *bolt.Tx) error) error {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := s.log.foldTx(tx); err != nil {
			return err
		}
		return fn(tx)
	})
	if err == nil {
		s.log.folded()
	}
	return err
}

// fold writes the link log's pending records into the database, if any.
func (s *store) fold() error {
	s.log.mu.Lock()
	n := len(s.log.pending)
	s.log.mu.Unlock()
	if n == 0 {
		return nil
	}
	return s.updateFolding(func(*bolt.Tx) error { return nil })
}

// foldDue reports whether enough records wait in the log to fold now.
func (s *store) foldDue() bool {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return s.log.dueLocked()
}

// pendingFolds reports whether records wait in the log.
func (s *store) pendingFolds() bool {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return len(s.log.pending) > 0
}

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
	err = s.update(func(tx *bolt.Tx) error {
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
	if err != nil {
		return prev, err
	}
	// An earlier item may have finished in the link log since: read it
	// again, log and database together (never inside the write above: a
	// fold takes the log's lock before bbolt's).
	var again []*Item
	for _, p := range prev {
		if p != nil && !p.State.Terminal() {
			again = append(again, p)
		}
	}
	if len(again) > 0 {
		_ = s.read(func(tx *bolt.Tx, pv pendingView) error {
			for _, p := range again {
				if done, ok := pv.items[p.ID]; ok {
					*p = done
				} else if data := tx.Bucket(bucketItems).Get(itob(uint64(p.ID))); data != nil {
					_ = json.Unmarshal(data, p)
				}
			}
			return nil
		})
	}
	return prev, nil
}

// updateItem saves an item and makes it the path's latest, in one
// transaction (a queued file that changed before its upload started).
func (s *store) updateItem(it *Item) error {
	return s.update(func(tx *bolt.Tx) error {
		// The item may have been uploaded (and folded) since the caller
		// read it: a waiting item's update must not bring it back.
		var cur Item
		if v := tx.Bucket(bucketItems).Get(itob(uint64(it.ID))); v != nil && json.Unmarshal(v, &cur) == nil && cur.State.Terminal() {
			return nil
		}
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

// finishMany records done items with their upload records and history
// entries, together, so a crash never leaves a link without its record:
// appended to the link log, or, when the log is full, after folding it,
// or, if the log cannot be written, in the database.
func (s *store) finishMany(outs []outcome) error {
	s.log.mu.Lock()
	err := s.log.appendLocked(outs)
	s.log.mu.Unlock()
	if errors.Is(err, errLogFull) {
		if err = s.fold(); err == nil {
			s.log.mu.Lock()
			err = s.log.appendLocked(outs)
			s.log.mu.Unlock()
		}
	}
	if err == nil {
		return nil
	}
	return s.updateFolding(func(tx *bolt.Tx) error { return finishTx(tx, outs, s.log) })
}

// pendingView is what the link log holds, copied at one moment.
type pendingView struct {
	items   map[ItemID]Item
	history []HistoryEntry // newest first
}

// read runs fn in a read transaction begun at the same moment as a copy of
// the link log's pending records is taken, so each record is in exactly one
// of them. fn must not take the log's lock.
func (s *store) read(fn func(tx *bolt.Tx, pv pendingView) error) error {
	s.log.mu.Lock()
	tx, err := s.db.Begin(false)
	if err != nil {
		s.log.mu.Unlock()
		return err
	}
	pv := pendingView{items: make(map[ItemID]Item, len(s.log.items))}
	for id, it := range s.log.items {
		pv.items[id] = it
	}
	for i := len(s.log.pending) - 1; i >= 0; i-- {
		if h := s.log.pending[i].history; h != nil {
			pv.history = append(pv.history, *h)
		}
	}
	s.log.mu.Unlock()
	defer tx.Rollback()
	return fn(tx, pv)
}

// finishTx writes done items, their upload records and history entries.
// Writing the same outcome twice writes the same keys and values.
func finishTx(tx *bolt.Tx, outs []outcome, l *linkLog) error {
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
			if err := putHistory(tx, o.history, l); err != nil {
				return err
			}
		}
	}
	return nil
}

// putHistory writes an entry, numbering it first if it is new. The link
// log numbers the entries it holds, so both draw from its counter; the
// bucket's sequence follows, for the next start.
func putHistory(tx *bolt.Tx, h *HistoryEntry, l *linkLog) error {
	b := tx.Bucket(bucketHistory)
	if h.ID == 0 {
		h.ID = l.nextHistoryID()
	}
	if b.Sequence() < h.ID {
		if err := b.SetSequence(h.ID); err != nil {
			return err
		}
	}
	return putJSON(b, itob(h.ID), h)
}

// loadPending returns the items that still need work. Items a crash left
// uploading or processing go back to queued: their upload may have reached
// the server, so such a file can be uploaded twice (at most one per worker
// that was busy at the crash).
func (s *store) loadPending(now time.Time, keepDone time.Duration) ([]*Item, error) {
	var out []*Item
	err := s.update(func(tx *bolt.Tx) error {
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
	s.log.mu.Lock()
	rec, ok = s.log.records[key]
	s.log.mu.Unlock()
	if ok {
		return rec, true, nil
	}
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
	return s.updateFolding(func(tx *bolt.Tx) error { return tx.Bucket(bucketRecords).Delete([]byte(key)) })
}

// history returns up to limit entries, newest first (limit <= 0: all),
// the link log's included.
func (s *store) history(limit int) ([]HistoryEntry, error) {
	var out []HistoryEntry
	err := s.read(func(tx *bolt.Tx, pv pendingView) error {
		out = pv.history
		c := tx.Bucket(bucketHistory).Cursor()
		n := 0
		for k, v := c.Last(); k != nil && (limit <= 0 || n < limit); k, v = c.Prev() {
			n++
			var h HistoryEntry
			if json.Unmarshal(v, &h) == nil {
				out = append(out, h)
			}
		}
		return nil
	})
	// Entries are numbered in the order they were made, logged or not.
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

func (s *store) historyEntry(id uint64) (h HistoryEntry, ok bool, err error) {
	err = s.read(func(tx *bolt.Tx, pv pendingView) error {
		for _, p := range pv.history {
			if p.ID == id {
				h, ok = p, true
				return nil
			}
		}
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
	return s.updateFolding(func(tx *bolt.Tx) error {
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
	return s.update(func(tx *bolt.Tx) error {
		if recKey != "" && rec != nil {
			if err := putJSON(tx.Bucket(bucketRecords), []byte(recKey), rec); err != nil {
				return err
			}
		}
		return putHistory(tx, h, s.log)
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

// held returns what a folder held when it last started being watched (nil:
// not recorded, or in a format this version does not read).
func (s *store) held(folder string) (h *heldFiles, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketHeld).Get([]byte(folder))
		if v == nil {
			return nil
		}
		h = new(heldFiles)
		if h.UnmarshalBinary(v) != nil {
			h = nil
		}
		return nil
	})
	return h, err
}

func (s *store) deleteHeld(folder string) error {
	return s.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketHeld).Delete([]byte(folder)) })
}

func (s *store) setHeld(folder string, h *heldFiles) error {
	v, err := h.MarshalBinary()
	if err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketHeld).Put([]byte(folder), v) })
}

// setMark moves a folder's mark forward (never back) to t.
func (s *store) setMark(folder string, t time.Time) error {
	return s.update(func(tx *bolt.Tx) error {
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

// items returns every item still in the database, by ID, as the link log
// left them.
func (s *store) items() ([]Item, error) {
	var out []Item
	err := s.read(func(tx *bolt.Tx, pv pendingView) error {
		return tx.Bucket(bucketItems).ForEach(func(_, v []byte) error {
			var it Item
			if json.Unmarshal(v, &it) == nil {
				if done, ok := pv.items[it.ID]; ok {
					it = done
				}
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
	return s.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMarks).Put([]byte(key), itob(n)) })
}
