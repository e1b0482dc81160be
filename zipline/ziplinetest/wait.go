package ziplinetest

import (
	"context"
	"fmt"
)

// TB is the part of testing.TB that New uses.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// New starts a server for a test and closes it when the test ends.
func New(t TB, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatalf("ziplinetest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// changed returns a channel closed at the next change of the stored files.
func (s *Server) changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.change == nil {
		s.change = make(chan struct{})
	}
	return s.change
}

// notify wakes the waiters. Called with s.mu held.
func (s *Server) notify() {
	if s.change != nil {
		close(s.change)
		s.change = nil
	}
}

// WaitFiles waits until at least n complete files are stored and returns
// them all (oldest first), or fails when ctx ends.
func (s *Server) WaitFiles(ctx context.Context, n int) ([]File, error) {
	for {
		ch := s.changed()
		var done []File
		for _, f := range s.Files() {
			if f.Complete {
				done = append(done, f)
			}
		}
		if len(done) >= n {
			return done, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return done, fmt.Errorf("ziplinetest: waiting for %d files (have %d): %w", n, len(done), ctx.Err())
		}
	}
}

// WaitComplete waits until the file with that id (or name) is complete —
// for chunked uploads, when processing has finished.
func (s *Server) WaitComplete(ctx context.Context, idOrName string) (File, error) {
	for {
		ch := s.changed()
		for _, f := range s.Files() {
			if (f.ID == idOrName || f.Name == idOrName) && f.Complete {
				return f, nil
			}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return File{}, fmt.Errorf("ziplinetest: waiting for file %s: %w", idOrName, ctx.Err())
		}
	}
}
