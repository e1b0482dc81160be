package uploader

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/internal/testutil"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
	bolt "go.etcd.io/bbolt"
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
	if st.log.m != nil {
		unmapFile(st.log.m) // like a process dying: the written pages stay with the kernel
	}
	if st.log.f != nil {
		st.log.f.Close()
	}
	st.db.Close()
}

// reopen crashes st and opens the store again.
func reopen(t *testing.T, st *store, dir string) *store {
	t.Helper()
	crash(st)
	st, err := openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return st
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
	st = reopen(t, st, dir)
	checkDone(t, st, a, true)
	// Folded records stay in the file: a crash now must not apply them again.
	st = reopen(t, st, dir)
	if h, _ := st.history(0); len(h) != 3 {
		t.Fatalf("history has %d entries after a second crash, want 3", len(h))
	}
	// A second batch goes to the start of the log in a new epoch, over the
	// first batch's records; a crash again must apply it, and only it.
	b := finishedOutcomes(t, st, 1, "b")
	if err := st.finishMany(b); err != nil {
		t.Fatal(err)
	}
	st = reopen(t, st, dir)
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

// A record torn by a power cut (written but never synced) is ignored, and
// so is everything after it: those files are uploaded again.
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
	if !st.foldDue() {
		t.Fatalf("no fold due after %d records", foldAfter)
	}
	if err := st.fold(); err != nil {
		t.Fatal(err)
	}
	if n := len(st.log.pending); n != 0 {
		t.Errorf("%d records still pending after %d", n, foldAfter)
	}
	checkDone(t, st, outs, true)
}

// History entries are numbered when logged: the history lists uploads in
// the order they finished even when an entry written straight to the
// database (a CLI upload) comes between, and a pending entry can be read,
// found by ID and deleted — and stays deleted after a crash.
func TestLinkLogHistory(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	a := finishedOutcomes(t, st, 2, "a")
	if err := st.finishMany(a[:1]); err != nil {
		t.Fatal(err)
	}
	direct := &HistoryEntry{Name: "cli.png", URL: "https://z.example/u/cli"}
	if err := st.addHistory(direct, "", nil); err != nil {
		t.Fatal(err)
	}
	if err := st.finishMany(a[1:]); err != nil {
		t.Fatal(err)
	}
	if !st.pendingFolds() {
		t.Fatal("the logged entries were folded already; the test needs them pending")
	}
	h, err := st.history(0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range h {
		names = append(names, e.Name)
	}
	want := []string{"a1.png", "cli.png", "a0.png"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Fatalf("history = %v, want newest first %v", names, want)
	}
	if h2, _ := st.history(2); len(h2) != 2 || h2[0].Name != "a1.png" || h2[1].Name != "cli.png" {
		t.Errorf("history(2) = %+v, want a1.png, cli.png", h2)
	}
	pending := h[0]
	if got, ok, err := st.historyEntry(pending.ID); err != nil || !ok || got.URL != pending.URL {
		t.Fatalf("historyEntry(%d) = %+v, %v, %v; want the pending entry", pending.ID, got, ok, err)
	}
	if err := st.deleteHistory(pending); err != nil {
		t.Fatal(err)
	}
	st = reopen(t, st, dir)
	defer st.close()
	h, err = st.history(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].Name != "cli.png" || h[1].Name != "a0.png" {
		t.Fatalf("after deleting a1 and a crash, history = %+v; want cli.png, a0.png", h)
	}
	// New entries continue the numbering.
	b := finishedOutcomes(t, st, 1, "b")
	if err := st.finishMany(b); err != nil {
		t.Fatal(err)
	}
	if h, _ := st.history(1); len(h) != 1 || h[0].Name != "b0.png" || h[0].ID <= pending.ID {
		t.Errorf("newest entry = %+v, want b0.png numbered after %d", h, pending.ID)
	}
}

// A full log is folded and the batch appended again; nothing is lost.
func TestLinkLogFull(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	outs := finishedOutcomes(t, st, 40, "big")
	for i := range outs {
		outs[i].it.Path = "/x/" + strings.Repeat("p", 60_000) + fmt.Sprint(i) // ~60 KiB records: 2 MiB holds ~34
	}
	for i := range outs {
		if err := st.finishMany(outs[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if st.log.epoch == 0 {
		t.Error("the log never filled up, so the test tested nothing")
	}
	st = reopen(t, st, dir)
	defer st.close()
	checkDone(t, st, outs, true)
}

// The engine folds the log into the database once uploads stop, without
// being closed, so a power cut soon after a burst costs no records.
func TestLinkLogFoldsWhenIdle(t *testing.T) {
	f := newFixture(t, ziplinetest.RoleAdmin)
	e := f.open(t, f.config())
	r := recordEvents(t, e)
	var reqs []addReq
	for i := range 20 {
		p, _ := f.write(t, fmt.Sprintf("i%02d.png", i), 1000+i)
		reqs = append(reqs, addReq{path: p, o: AddOptions{Source: SourceWatch}})
	}
	for _, res := range e.addMany(reqs) {
		if res.err != nil || !res.added {
			t.Fatalf("add: %+v", res)
		}
	}
	r.wait(t, 10*time.Second, "20 uploads", func(evs []Event) bool { return countType(evs, EventUploaded) == 20 })
	// The committer counts a fold just after it ends: wait for both.
	testutil.WaitFor(t, 5*time.Second, "the link log to be folded by the committer", func() bool {
		e.commit.mu.Lock()
		folds := e.commit.folds
		e.commit.mu.Unlock()
		return folds >= 1 && !e.st.pendingFolds()
	})
	// What the database holds now, without the log: every item done.
	err := e.st.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketItems).ForEach(func(k, v []byte) error {
			var it Item
			if err := json.Unmarshal(v, &it); err != nil {
				return err
			}
			if it.State != StateDone {
				t.Errorf("item %s is %s in the database after the fold", it.Path, it.State)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Without room for the log (here: a folder where its file should be) the
// store still opens and records links, straight in the database.
func TestLinkLogUnavailable(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, LinkLogFile), 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := openStore(dir, time.Second)
	if err != nil {
		t.Fatalf("open without a link log: %v", err)
	}
	if st.log.offErr == nil {
		t.Fatal("the log reports no problem")
	}
	outs := finishedOutcomes(t, st, 3, "n")
	if err := st.finishMany(outs); err != nil {
		t.Fatal(err)
	}
	if st.pendingFolds() {
		t.Error("records wait in a log that does not exist")
	}
	st = reopen(t, st, dir)
	defer st.close()
	checkDone(t, st, outs, true)
}

// A new queue takes little disk. (bbolt grows the file with the map: a
// 32 MiB initial map once made an empty queue.db 16 MiB, on Windows 32.)
func TestQueueFileSmallOnDisk(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	st.close()
	fi, err := os.Stat(filepath.Join(dir, StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() >= 1<<20 {
		t.Errorf("an empty queue.db takes %d bytes on disk", fi.Size())
	}
}

// A waiting item's update (a file that changed while queued) that lands
// after the item was uploaded and its link folded must not bring the item
// back as queued: it would be uploaded again after a restart.
func TestUpdateAfterFoldKeepsItemDone(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	outs := finishedOutcomes(t, st, 1, "u")
	waiting := outs[0].it
	waiting.State, waiting.URL, waiting.Size = StateQueued, "", 4242 // as coalesce saw it
	if err := st.finishMany(outs); err != nil {
		t.Fatal(err)
	}
	if err := st.fold(); err != nil {
		t.Fatal(err)
	}
	if err := st.updateItem(&waiting); err != nil {
		t.Fatal(err)
	}
	st = reopen(t, st, dir)
	defer st.close()
	checkDone(t, st, outs, true)
}
