package uploader

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// After a power cut that loses the log's first record but keeps later ones
// (pages written back out of order), replay stops at the first record. The
// skipped records must never become current again: once new records of the
// same length are written over the start, a later start would replay the
// stale ones too, and their history IDs, reissued in the meantime, would
// overwrite other entries. Every open moves to a new epoch.
func TestStaleRecordsResurrect(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	a := finishedOutcomes(t, st, 3, "a") // items 1-3, history IDs 1-3
	if err := st.finishMany(a); err != nil {
		t.Fatal(err)
	}
	crash(st)
	// Power cut: record 1's sector never reached the disk, records 2 and 3 did.
	logPath := filepath.Join(dir, LinkLogFile)
	data, _ := os.ReadFile(logPath)
	n1 := int(binary.BigEndian.Uint32(data))
	copy(data, make([]byte, recHeader+n1))
	os.WriteFile(logPath, data, 0o600)

	st, err = openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := st.history(0); len(h) != 0 {
		t.Fatalf("after the cut: %d history entries, want 0 (all in the lost part)", len(h))
	}
	// Next run: a new upload (same shape as record 1) and a CLI upload
	// recorded through Record (addHistory).
	b := finishedOutcomes(t, st, 1, "b")
	b[0].it.Added = a[0].it.Added
	if err := st.finishMany(b); err != nil {
		t.Fatal(err)
	}
	now, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := int(binary.BigEndian.Uint32(now)); got != n1 {
		t.Skipf("new record is %d bytes, the lost one %d: no alignment this time", got, n1)
	}
	cli := HistoryEntry{Name: "cli-upload.png", URL: "https://z.example/u/cli"}
	if err := st.addHistory(&cli, "", nil); err != nil {
		t.Fatal(err)
	}
	st = reopen(t, st, dir) // a kill (no power cut this time)
	defer st.close()
	got, ok, err := st.historyEntry(cli.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !ok || got.Name != cli.Name {
		t.Fatalf("history entry %d was the CLI upload %q; after restart it is %q (a record skipped two starts ago)", cli.ID, cli.Name, got.Name)
	}
}
