package uploader

import (
	"sync"
	"time"
)

// EventType names what happened.
type EventType string

const (
	EventQueued     EventType = "queued"
	EventStarted    EventType = "started" // an upload attempt began
	EventProgress   EventType = "progress"
	EventProcessing EventType = "processing" // chunked upload sent, waiting for COMPLETE
	EventUploaded   EventType = "uploaded"
	EventFailed     EventType = "failed" // Retrying and NextAttempt say what happens next
	EventSkipped    EventType = "skipped"
	EventCancelled  EventType = "cancelled"
	// EventAuthRequired: the server rejected the token. Sent once per pause;
	// the queue resumes by itself when new credentials arrive.
	EventAuthRequired EventType = "auth_required"
	EventPaused       EventType = "paused"  // whole queue: Reason, Until (zero: until sign-in)
	EventResumed      EventType = "resumed" // whole queue
	EventFolder       EventType = "folder"  // a watched folder's status changed (Reason)
)

// Event is one thing that happened in the engine. Item events carry the
// item's ID and Path; queue-wide events (paused, resumed, auth_required) do not.
type Event struct {
	Type   EventType `json:"event"`
	Time   time.Time `json:"time"`
	Item   ItemID    `json:"id,omitempty"`
	Path   string    `json:"path,omitempty"`
	Folder string    `json:"folder,omitempty"`
	// Uploaded: the link copied (in the configured format), the page URL, the
	// raw URL and the server's file id.
	Link   string `json:"link,omitempty"`
	URL    string `json:"url,omitempty"`
	RawURL string `json:"raw_url,omitempty"`
	FileID string `json:"file_id,omitempty"`
	Reused bool   `json:"reused,omitempty"`
	// Progress.
	Sent  int64 `json:"sent,omitempty"`
	Total int64 `json:"total,omitempty"`
	// Failed, skipped, paused.
	Reason      string    `json:"reason,omitempty"`
	Retrying    bool      `json:"retrying,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	Until       time.Time `json:"until,omitzero"`
}

// droppable events may be dropped for a subscriber that falls behind.
func (e Event) droppable() bool { return e.Type == EventProgress }

// maxBacklog is how many events a slow subscriber may have waiting before
// progress events are dropped for it. Other events are never dropped.
const maxBacklog = 256

type subscriber struct {
	ch      chan Event // buffered: a subscriber keeping up gets events straight
	mu      sync.Mutex
	backlog []Event // what did not fit in ch, for the pump to deliver
	pumping bool    // the pump holds events taken from backlog
	wake    chan struct{}
	done    chan struct{}
	// drain, for a subscriber that takes every event, is closed when the
	// engine closes: the pump hands over the rest, then closes ch.
	drain chan struct{}
}

// chanBuffer is each subscriber's channel buffer. Events go into it
// directly while it has room and nothing waits in the backlog (one wake-up
// of the reader, not two: a burst publishes three events a file).
const chanBuffer = 64

type broker struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

// subscribe returns a channel of events and a function that ends the
// subscription and closes the channel. Publishing never blocks: each
// subscriber has its own buffer, pumped by its own goroutine when its
// channel is full.
func (b *broker) subscribe() (<-chan Event, func()) {
	s := b.add(nil)
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
			close(s.done)
		})
	}
}

// subscribeAll returns a channel of every event until closeAll, which
// closes it once everything published before has been read. The reader
// must read it to the end.
func (b *broker) subscribeAll() <-chan Event { return b.add(make(chan struct{})).ch }

// add starts a subscriber (drain: see subscriber.drain).
func (b *broker) add(drain chan struct{}) *subscriber {
	s := &subscriber{ch: make(chan Event, chanBuffer), wake: make(chan struct{}, 1), done: make(chan struct{}), drain: drain}
	b.mu.Lock()
	if b.subs == nil {
		b.subs = make(map[*subscriber]struct{})
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go s.pump()
	return s
}

// closeAll ends the subscribeAll subscriptions: nothing published later
// reaches them.
func (b *broker) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if s.drain != nil {
			delete(b.subs, s)
			close(s.drain)
		}
	}
}

func (b *broker) publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		s.mu.Lock()
		if len(s.backlog) == 0 && !s.pumping {
			// In order: nothing published earlier is still on its way.
			// The channel is open: it is closed after unsubscribe, which
			// takes s out of b.subs under b.mu first.
			select {
			case s.ch <- e:
				s.mu.Unlock()
				continue
			default:
			}
		}
		if !(e.droppable() && len(s.backlog) >= maxBacklog) {
			s.backlog = append(s.backlog, e)
		}
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *subscriber) pump() {
	defer close(s.ch)
	for {
		s.mu.Lock()
		batch := s.backlog
		s.backlog = nil
		s.pumping = len(batch) > 0
		s.mu.Unlock()
		for _, e := range batch {
			select {
			case s.ch <- e:
			case <-s.done:
				return
			}
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-s.wake:
		case <-s.done:
			return
		case <-s.drain:
			// Taken out of the broker: the backlog is complete.
			s.mu.Lock()
			batch := s.backlog
			s.backlog = nil
			s.mu.Unlock()
			for _, e := range batch {
				s.ch <- e
			}
			return
		}
	}
}
