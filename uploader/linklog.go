package uploader

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// LinkLogFile, in the state folder, holds finished uploads until they are
// folded into the queue database. A bbolt commit costs two disk syncs; a
// link is instead copied here (a shared mapping of the file; write calls
// where there is none; no sync) before it is announced: that survives the
// process being killed at any moment, because the kernel keeps the written
// pages. The log is folded into the database — synced — when the engine
// goes idle (foldIdle), every foldAfter links, before any write that could
// conflict, and on close. A power cut before a fold can lose the last
// links' records; those files are uploaded again (a duplicate, never a lost
// capture), and DeleteAfterUpload waits for the fold. Without room for the
// log the store runs without it.
//
// The file is a fixed size overwritten from the start. Each record carries
// the log's epoch; the fold moves the database to the next epoch in the
// same transaction, so folded records are never applied again.
const LinkLogFile = "links.log"

const (
	linkLogSize = 2 << 20
	recHeader   = 16 // length, crc32c of epoch+payload, epoch
	// foldAfter bounds the records waiting in the log (about 1 KiB each).
	foldAfter = 1024
)

// epochKey in the marks bucket (folder keys are absolute paths) holds the
// log's current epoch: only records of that epoch are still to fold.
var epochKey = []byte("#links-epoch")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// linkLog is the log and its records not folded yet. mu is held across an
// append (one write) and across a fold (a bbolt commit), so a record is
// never written in an epoch that is being closed.
type linkLog struct {
	mu      sync.Mutex
	f       *os.File
	m       []byte // the file mapped in memory, where the system allows it
	off     int64
	epoch   uint64
	pending []outcome
	records map[string]record // pending upload records by key, for dedupe
	items   map[ItemID]Item   // pending done items, for reads
	offErr  error             // why there is no log (f is nil)
	scratch bytes.Buffer      // records being appended
	enc     *json.Encoder     // into scratch
	// history numbers entries when they are logged, not when folded, so
	// applying a record twice writes the same entry twice, and the history
	// is in the order uploads finished.
	history atomic.Uint64
}

// openLinkLog folds what a crash left in the log into db and opens the log
// for a new epoch. If the log cannot be kept (no room for it on the disk,
// something else in its place), the store runs without it — each group of
// links then costs a bbolt commit, as before the log — and off says why.
func openLinkLog(stateDir string, db *bolt.DB) (*linkLog, error) {
	path := filepath.Join(stateDir, LinkLogFile)
	l := &linkLog{records: map[string]record{}, items: map[ItemID]Item{}}
	err := db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMarks).Get(epochKey); len(v) == 8 {
			l.epoch = binary.BigEndian.Uint64(v)
		}
		l.history.Store(tx.Bucket(bucketHistory).Sequence())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recover %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err == nil {
		l.f = f
		// A write to a shared mapping is a copy in memory, where a write
		// call costs a journalled timestamp update (20-40 µs on a busy VM);
		// both leave the data with the kernel, so both survive the process
		// dying. Replay reads through it too: only the pages it reads.
		if fi, serr := f.Stat(); serr == nil && fi.Size() >= linkLogSize {
			l.m = mapFile(f, linkLogSize)
		}
		err = l.replay()
	}
	unread := err != nil
	if unread {
		l.off, l.offErr = linkLogSize, fmt.Errorf("open %s: %w", path, err)
		// Records it may hold stay for a start that can read them (same
		// epoch); this run numbers history entries far above any of theirs.
		l.history.Add(1 << 16)
	}
	// Otherwise always a new epoch, also with nothing to fold: records a
	// power cut left behind a torn one must never become current again.
	err = db.Update(func(tx *bolt.Tx) error {
		if err := finishTx(tx, l.pending, l); err != nil {
			return err
		}
		if unread {
			return tx.Bucket(bucketHistory).SetSequence(l.history.Load())
		}
		return tx.Bucket(bucketMarks).Put(epochKey, itob(l.epoch+1))
	})
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, fmt.Errorf("recover %s: %w", path, err)
	}
	if !unread {
		l.epoch++
	}
	l.off, l.pending = 0, nil
	clear(l.records)
	clear(l.items)
	if l.offErr == nil && l.m == nil {
		if err := l.zero(); err != nil {
			l.offErr = fmt.Errorf("prepare %s: %w", path, err)
			// Give back what a partial write took (a full disk): the
			// database needs it now.
			f.Truncate(0)
		} else {
			l.m = mapFile(f, linkLogSize)
		}
	}
	if l.offErr != nil {
		if l.m != nil {
			unmapFile(l.m)
		}
		if f != nil {
			f.Close()
		}
		l.f, l.m, l.off = nil, nil, linkLogSize
	}
	return l, nil
}

// replay reads the current epoch's records; it stops at the first record
// that is torn (bad checksum) or older.
func (l *linkLog) replay() error {
	data := l.m
	if data == nil { // a new or short file, or no mapping here
		var err error
		if data, err = io.ReadAll(io.NewSectionReader(l.f, 0, linkLogSize)); err != nil {
			return err
		}
	}
	for off := 0; off+recHeader <= len(data); {
		n := int(binary.BigEndian.Uint32(data[off:]))
		sum := binary.BigEndian.Uint32(data[off+4:])
		if n == 0 || off+recHeader+n > len(data) {
			break
		}
		body := data[off+8 : off+recHeader+n]
		if crc32.Checksum(body, castagnoli) != sum || binary.BigEndian.Uint64(body) != l.epoch {
			break
		}
		var r logRecord
		if json.Unmarshal(body[8:], &r) != nil {
			break
		}
		if r.History != nil && r.History.ID > l.history.Load() {
			l.history.Store(r.History.ID)
		}
		l.remember(r.outcome())
		off += recHeader + n
	}
	return nil
}

// zero makes the file linkLogSize bytes of written zeros once, so appends
// overwrite allocated blocks and never grow the file.
func (l *linkLog) zero() error {
	if fi, err := l.f.Stat(); err == nil && fi.Size() >= linkLogSize {
		return nil
	}
	if _, err := l.f.WriteAt(make([]byte, linkLogSize), 0); err != nil {
		return err
	}
	return l.f.Sync()
}

// logRecord is one finished upload in the log.
type logRecord struct {
	Item    Item          `json:"item"`
	Key     string        `json:"key,omitempty"`
	Rec     record        `json:"rec"`
	History *HistoryEntry `json:"history,omitempty"`
}

func (r logRecord) outcome() outcome {
	return outcome{it: r.Item, record: r.Key, rec: r.Rec, history: r.History}
}

// errLogFull means the batch does not fit: fold, then append again.
var errLogFull = errors.New("link log full")

// nextHistoryID numbers a new history entry.
func (l *linkLog) nextHistoryID() uint64 { return l.history.Add(1) }

// appendLocked writes a batch with one write. On return without error the
// batch survives the process being killed.
func (l *linkLog) appendLocked(outs []outcome) error {
	// One buffer and encoder for the log's life: a burst appends hundreds
	// of records.
	if l.enc == nil {
		l.enc = json.NewEncoder(&l.scratch)
	}
	l.scratch.Reset()
	var zero [recHeader]byte
	for i := range outs {
		o := &outs[i]
		if o.history != nil && o.history.ID == 0 {
			o.history.ID = l.nextHistoryID()
		}
		start := l.scratch.Len()
		l.scratch.Write(zero[:])
		if err := l.enc.Encode(logRecord{Item: o.it, Key: o.record, Rec: o.rec, History: o.history}); err != nil {
			return err
		}
		h := l.scratch.Bytes()[start:]
		body := h[recHeader:]
		binary.BigEndian.PutUint32(h[0:], uint32(len(body)))
		binary.BigEndian.PutUint64(h[8:], l.epoch)
		binary.BigEndian.PutUint32(h[4:], crc32.Update(crc32.Checksum(h[8:recHeader], castagnoli), castagnoli, body))
	}
	buf := l.scratch.Bytes()
	if l.f == nil {
		return l.offErr
	}
	// Room for the zero length that ends the log.
	if l.off+int64(len(buf))+recHeader > linkLogSize {
		return errLogFull
	}
	if l.m != nil && !copyToMap(l.m[l.off:], buf) {
		// The system could not back the page (a full copy-on-write file
		// system): write calls from now on, which return such errors.
		unmapFile(l.m)
		l.m = nil
	}
	if l.m == nil {
		if _, err := l.f.WriteAt(buf, l.off); err != nil {
			return err
		}
	}
	l.off += int64(len(buf))
	for i := range outs {
		l.remember(outs[i])
	}
	return nil
}

func (l *linkLog) remember(o outcome) {
	l.pending = append(l.pending, o)
	l.items[o.it.ID] = o.it
	if o.record != "" {
		l.records[o.record] = o.rec
	}
}

// due reports whether the log should be folded now.
func (l *linkLog) dueLocked() bool {
	return len(l.pending) >= foldAfter || l.off > linkLogSize/2
}

// foldTx writes the pending records into tx and moves to the next epoch.
// Call folded once tx is committed.
func (l *linkLog) foldTx(tx *bolt.Tx) error {
	if len(l.pending) == 0 {
		return nil
	}
	if err := finishTx(tx, l.pending, l); err != nil {
		return err
	}
	return tx.Bucket(bucketMarks).Put(epochKey, itob(l.epoch+1))
}

func (l *linkLog) folded() {
	if len(l.pending) == 0 {
		return
	}
	l.epoch++
	l.off = 0
	l.pending = nil
	clear(l.records)
	clear(l.items)
}

// copyToMap copies src into the mapping, reporting false instead of
// crashing when the system fails to back a page (SIGBUS).
func copyToMap(dst, src []byte) (ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	copy(dst, src)
	return true
}

func (l *linkLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m != nil {
		unmapFile(l.m)
		l.m = nil
	}
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f, l.offErr = nil, os.ErrClosed
	return err
}
