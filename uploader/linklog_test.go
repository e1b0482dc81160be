package uploader

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// finishedOutcomes queues n items in st and returns their done outcomes,
// as the engine hands them to the committer.
func finishedOutcomes(t *testing.T, st *store, n int, tag string) []outcome {
	t.Helper()
	var its []*Item
	for i := range n {
		its = append(its, &Item{Path: fmt.Sprintf("/x/%s%d.png", tag, i), State: StateQueued, Size: int64(i), Added: time.Now()})
	}
	if _, err := st.addItems(its, make([]bool, n)); err != nil {
		t.Fatal(err)
	}
	var outs []outcome
	for _, it := range its {
		done := *it
		done.State, done.URL = StateDone, "https://z.example/u/"+tag+done.ID.String()
		key := "srv|" + tag + done.ID.String() + "|opts"
		outs = append(outs, outcome{
			it: done, record: key, rec: record{URL: done.URL, FileID: done.ID.String(), Path: done.Path},
			history: &HistoryEntry{Name: filepath.Base(done.Path), URL: done.URL, Item: done.ID},
		})
	}
	return outs
}

// crash closes the files without folding the log, like a killed process.
func crash(st *store) {
	st.log.f.Close()
	st.db.Close()
}

func checkDone(t *testing.T, st *store, outs []outcome, done bool) {
	t.Helper()
	all, err := st.items()
	if err != nil {
		t.Fatal(err)
	}
	state := map[ItemID]State{}
	for _, it := range all {
		state[it.ID] = it.State
	}
	for _, o := range outs {
		if got := state[o.it.ID] == StateDone; got != done {
			t.Errorf("item %d (%s): done = %v, want %v", o.it.ID, o.it.Path, got, done)
		}
		if _, ok, _ := st.record(o.record); ok != done {
			t.Errorf("record %s present = %v, want %v", o.record, ok, done)
		}
	}
}

// Links made durable in the log but not yet folded survive a crash, are
// folded once on the next open, and are never applied twice.
func TestLinkLogSurvivesCrash(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	a := finishedOutcomes(t, st, 3, "a")
	if err := st.finishMany(a); err != nil {
		t.Fatal(err)
	}
	if n := len(st.log.pending); n != 3 {
		t.Fatalf("%d records pending in the log, want 3 (the test needs them unfolded)", n)
	}
	crash(st)

	st, err = openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	checkDone(t, st, a, true)
	// Folded records stay in the file: a crash now must not apply them again.
	crash(st)
	st, err = openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := st.history(0); len(h) != 3 {
		t.Fatalf("history has %d entries after a second crash, want 3", len(h))
	}
	// A second batch goes to the start of the log in a new epoch, over the
	// first batch's records; a crash again must apply it, and only it.
	b := finishedOutcomes(t, st, 1, "b")
	if err := st.finishMany(b); err != nil {
		t.Fatal(err)
	}
	crash(st)

	st, err = openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	checkDone(t, st, append(a, b...), true)
	h, err := st.history(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 4 {
		t.Fatalf("history has %d entries, want 4 (each link once): %+v", len(h), h)
	}
	ids := map[uint64]bool{}
	for _, e := range h {
		if ids[e.ID] {
			t.Errorf("history ID %d used twice", e.ID)
		}
		ids[e.ID] = true
	}
}

// A record torn by a crash (never synced, so never announced) is ignored,
// and so is everything after it.
func TestLinkLogTornRecord(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	a := finishedOutcomes(t, st, 1, "a")
	b := finishedOutcomes(t, st, 1, "b")
	if err := st.finishMany(a); err != nil {
		t.Fatal(err)
	}
	first := st.log.off
	if err := st.finishMany(b); err != nil {
		t.Fatal(err)
	}
	crash(st)
	f, err := os.OpenFile(filepath.Join(dir, LinkLogFile), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("XX"), first+recHeader+5); err != nil {
		t.Fatal(err)
	}
	f.Close()

	st, err = openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	checkDone(t, st, a, true)
	checkDone(t, st, b, false)
	if h, _ := st.history(0); len(h) != 1 {
		t.Errorf("history has %d entries, want 1", len(h))
	}
}

// Pending records are visible to reads before any fold, and a fold is due
// after foldAfter records.
func TestLinkLogFolds(t *testing.T) {
	st, err := openStore(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	outs := finishedOutcomes(t, st, foldAfter, "f")
	if err := st.finishMany(outs[:1]); err != nil {
		t.Fatal(err)
	}
	if rec, ok, _ := st.record(outs[0].record); !ok || rec.URL != outs[0].it.URL {
		t.Errorf("pending record = %+v, %v; want it found before the fold", rec, ok)
	}
	if err := st.finishMany(outs[1:]); err != nil {
		t.Fatal(err)
	}
	if err := st.foldIfDue(); err != nil {
		t.Fatal(err)
	}
	if n := len(st.log.pending); n != 0 {
		t.Errorf("%d records still pending after %d", n, foldAfter)
	}
	checkDone(t, st, outs, true)
}
