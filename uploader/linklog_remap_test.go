package uploader

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A fold holds the log's lock across its commit, and a commit that grows
// the file remaps it, which waits for every open read transaction: a read
// must never wait for the log's lock while it holds a transaction (items()
// once did, and deadlocked here).
func TestItemsFoldRemapDeadlock(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	outs := finishedOutcomes(t, st, 1000, "m")
	if err := st.finishMany(outs); err != nil {
		t.Fatal(err)
	}
	inside, release := make(chan struct{}), make(chan struct{})
	foldDone := make(chan error, 1)
	go func() { // a fold whose commit grows the database (a big fold does)
		foldDone <- st.updateFolding(func(tx *bolt.Tx) error {
			close(inside)
			<-release
			return nil // a plain fold: its 1000 records grow the file
		})
	}()
	<-inside
	itemsDone := make(chan struct{})
	go func() { st.items(); close(itemsDone) }() // e.g. Engine.Item from the GUI
	// Wait (on a condition) until items() is blocked on the log's lock.
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		if bytes.Contains(buf[:runtime.Stack(buf, true)], []byte("(*store).read")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("items() never reached the log's lock")
		}
		runtime.Gosched()
	}
	close(release)
	select {
	case <-foldDone:
	case <-time.After(10 * time.Second):
		t.Fatal("fold (holding linkLog.mu, remapping) and items() (read tx, waiting for linkLog.mu) deadlocked")
	}
	<-itemsDone
	st.close()
}
