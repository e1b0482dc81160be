package uploader

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// LinkLogFile, in the state folder, makes finished uploads durable with one
// disk sync instead of a bbolt commit (two). It is a fixed-size file of
// zeros overwritten from the start; its records are folded into the queue
// database by the next transaction that writes it (or after a pause), and
// that transaction moves the log to a new epoch, so folded records are
// never applied twice.
const LinkLogFile = "links.log"

const (
	linkLogSize = 1 << 20
	recHeader   = 16 // length, crc32c of epoch+payload, epoch
	// foldAfter bounds the records waiting in the log.
	foldAfter = 64
)

// epochKey in the marks bucket (folder keys are absolute paths) holds the
// log's current epoch: only records of that epoch are still to fold.
var epochKey = []byte("#links-epoch")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// linkLog is the log and its records not folded yet. mu is held across a
// whole append (write + sync) and a whole fold (bbolt commit), so a record
// is never written in an epoch that is being closed.
type linkLog struct {
	mu      sync.Mutex
	f       *os.File
	off     int64
	epoch   uint64
	pending []outcome
	records map[string]record // pending upload records by key, for dedupe
}

// openLinkLog opens the log and folds what a crash left in it into db.
func openLinkLog(stateDir string, db *bolt.DB) (*linkLog, error) {
	path := filepath.Join(stateDir, LinkLogFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	l := &linkLog{f: f, records: map[string]record{}}
	err = db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMarks).Get(epochKey); len(v) == 8 {
			l.epoch = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	if err == nil {
		err = l.replay()
	}
	if err == nil && len(l.pending) > 0 {
		err = db.Update(func(tx *bolt.Tx) error { return l.foldTx(tx) })
		if err == nil {
			l.folded()
		}
	}
	if err == nil {
		err = l.zero()
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("recover %s: %w", path, err)
	}
	return l, nil
}

// replay reads the current epoch's records; it stops at the first record
// that is torn (bad checksum) or older.
func (l *linkLog) replay() error {
	data, err := io.ReadAll(io.NewSectionReader(l.f, 0, linkLogSize))
	if err != nil {
		return err
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
		var o logRecord
		if json.Unmarshal(body[8:], &o) != nil {
			break
		}
		l.pending = append(l.pending, o.outcome())
		off += recHeader + n
	}
	return nil
}

// zero makes the file linkLogSize bytes of written zeros, so appends
// overwrite allocated blocks and a data sync needs no metadata.
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

// appendLocked writes a batch and syncs it. On return without error the
// batch is durable.
func (l *linkLog) appendLocked(outs []outcome) error {
	var buf []byte
	for i := range outs {
		o := &outs[i]
		body, err := json.Marshal(logRecord{Item: o.it, Key: o.record, Rec: o.rec, History: o.history})
		if err != nil {
			return err
		}
		var h [recHeader]byte
		binary.BigEndian.PutUint32(h[0:], uint32(len(body)))
		binary.BigEndian.PutUint64(h[8:], l.epoch)
		sum := crc32.Update(crc32.Checksum(h[8:], castagnoli), castagnoli, body)
		binary.BigEndian.PutUint32(h[4:], sum)
		buf = append(append(buf, h[:]...), body...)
	}
	// Room for the zero length that ends the log.
	if l.off+int64(len(buf))+recHeader > linkLogSize {
		return errLogFull
	}
	if _, err := l.f.WriteAt(buf, l.off); err != nil {
		return err
	}
	if err := datasync(l.f); err != nil {
		return err
	}
	l.off += int64(len(buf))
	for i := range outs {
		l.pending = append(l.pending, outs[i])
		if outs[i].record != "" {
			l.records[outs[i].record] = outs[i].rec
		}
	}
	return nil
}

// foldTx writes the pending records into tx and moves to the next epoch.
// Call folded once tx is committed.
func (l *linkLog) foldTx(tx *bolt.Tx) error {
	if len(l.pending) == 0 {
		return nil
	}
	if err := finishTx(tx, l.pending); err != nil {
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
}

func (l *linkLog) close() error { return l.f.Close() }
