package ziplinetest

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// Chunk generations (§3.7).
const (
	genA = 'A' // 4.0.0–4.2.1: /api/upload, client-chosen identifier
	genB = 'B' // 4.2.2–4.6.x: server identifier, range end not checked
	genC = 'C' // 4.7.0: exclusive end required (#1142)
	genD = 'D' // 4.8+: single-use partialToken, inclusive end
)

// DefaultPartialTimeout is how long an idle 4.8 chunked upload (and its
// token) lives.
const DefaultPartialTimeout = 30 * time.Minute

func (s *Server) generation() byte {
	switch {
	case !s.ver.atLeast(4, 2, 2):
		return genA
	case !s.ver.atLeast(4, 7, 0):
		return genB
	case !s.ver.atLeast(4, 8, 0):
		return genC
	}
	return genD
}

type chunk struct {
	start, n int64
	path     string
}

type partial struct {
	gen            byte
	id             string
	key            string // current key in s.partials
	owner          *userRec
	ip, folder     string
	total          int64
	received       int64 // bytes actually received
	counted        int64 // what the server counts against maxFileSize
	chunks         []chunk
	hasher         hash.Hash
	inOrder        bool
	lastSeen       time.Time
	contentLength  string
	pendingRequest bool
}

// IncompleteStatus is the processing state of a chunked upload.
type IncompleteStatus string

const (
	StatusPending    IncompleteStatus = "PENDING"
	StatusProcessing IncompleteStatus = "PROCESSING"
	StatusComplete   IncompleteStatus = "COMPLETE"
	StatusFailed     IncompleteStatus = "FAILED"
)

type incompleteRec struct {
	id                          string
	status                      IncompleteStatus
	chunksTotal, chunksComplete int
	owner                       *userRec
	file                        *fileRec
	createdAt, updatedAt        time.Time
}

var rangeRe = regexp.MustCompile(`^bytes (\d+)-(\d+)/(\d+)$`)

func parseContentRange(v string) (start, end, total int64, ok bool) {
	m := rangeRe.FindStringSubmatch(v)
	if m == nil {
		return 0, 0, 0, false
	}
	start, _ = strconv.ParseInt(m[1], 10, 64)
	end, _ = strconv.ParseInt(m[2], 10, 64)
	total, _ = strconv.ParseInt(m[3], 10, 64)
	return start, end, total, start <= end && total > 0
}

func (s *Server) handlePartial(w http.ResponseWriter, r *http.Request, _ params) {
	gen := s.generation()
	exempt := r.Header.Get("X-Zipline-P-Filename") != ""
	if gen == genD {
		s.mu.Lock()
		p := s.partials["tok:"+r.Header.Get("X-Zipline-P-Token")]
		exempt = p != nil && time.Since(p.lastSeen) < s.cfg.PartialTimeout
		s.mu.Unlock()
	}
	u, _, ok := s.authenticate(w, r, s.ver.atLeast(4, 5, 0))
	if !ok {
		return
	}
	if !s.rateLimitUpload(w, r, u, exempt) {
		return
	}
	s.partialUpload(w, r, u, gen)
}

// handlePartialA is generation A: a chunk sent to /api/upload.
func (s *Server) handlePartialA(w http.ResponseWriter, r *http.Request, u *userRec) {
	s.partialUpload(w, r, u, genA)
}

func (s *Server) partialErr(w http.ResponseWriter, r *http.Request, e *apiErr) {
	drain(r)
	s.writeErr(w, e)
}

func ownerKey(u *userRec, r *http.Request) string {
	if u == nil {
		return "anon:" + remoteIP(r)
	}
	return u.id
}

func (s *Server) partialUpload(w http.ResponseWriter, r *http.Request, u *userRec, gen byte) {
	cr := r.Header.Get("Content-Range")
	if cr == "" {
		s.partialErr(w, r, zerr(1004, "").old("partial upload was not detected"))
		return
	}
	start, end, total, ok := parseContentRange(cr)
	if !ok {
		s.partialErr(w, r, zerr(1002, "").old("Invalid partial upload"))
		return
	}
	o, e := s.parseOptions(r.Header)
	if e == nil {
		e = s.checkFolder(u, o.folder)
	}
	if e != nil {
		s.partialErr(w, r, e)
		return
	}
	pname := r.Header.Get("X-Zipline-P-Filename")
	if pname == "" {
		s.partialErr(w, r, zerr(1002, "").old("Invalid partial upload"))
		return
	}
	if dec, ok := decodeFilename(pname); ok {
		pname = dec
	} else if gen == genD {
		s.partialErr(w, r, s.badOption("x-zipline-p-filename", "Invalid URL-encoded filename"))
		return
	} else {
		s.partialErr(w, r, zerr(1009, "invalid file name: make sure it is URL encoded"))
		return
	}
	ptype := r.Header.Get("X-Zipline-P-Content-Type")
	plen := r.Header.Get("X-Zipline-P-Content-Length")
	last := r.Header.Get("X-Zipline-P-Lastchunk") == "true"
	owner := ownerKey(u, r)

	// Find or start the upload.
	s.mu.Lock()
	s.expirePartials()
	var p *partial
	isNew := false
	fail := func(e *apiErr) {
		s.mu.Unlock()
		s.partialErr(w, r, e)
	}
	switch gen {
	case genA:
		id := r.Header.Get("X-Zipline-P-Identifier")
		if id == "" {
			fail(zerr(1003, "").old("Partial upload identifier is invalid"))
			return
		}
		p = s.partials["a:"+owner+":"+id]
		if p == nil {
			p = &partial{gen: gen, id: id, key: "a:" + owner + ":" + id}
			isNew = true
		}
	case genB, genC:
		if start == 0 {
			id := randString(8, alnum)
			p = &partial{gen: gen, id: id, key: "id:" + id}
			isNew = true
		} else {
			p = s.partials["id:"+r.Header.Get("X-Zipline-P-Identifier")]
			if p == nil || ownerKeyOf(p) != owner {
				fail(zerr(1003, "").old("Partial upload identifier is invalid"))
				return
			}
		}
	case genD:
		tok := r.Header.Get("X-Zipline-P-Token")
		if tok == "" {
			if start != 0 {
				fail(zerr(1003, "Partial upload token is invalid, expired, or already used"))
				return
			}
			active := 0
			for _, q := range s.partials {
				if q.gen == genD && ownerKeyOf(q) == owner {
					active++
				}
			}
			if active >= s.cfg.MaxActivePartials {
				fail(zerr(1003, "Too many active partial uploads"))
				return
			}
			if total > s.maxFileSize {
				fail(zerr(5001, ""))
				return
			}
			if plen != strconv.FormatInt(total, 10) {
				fail(zerr(1002, ""))
				return
			}
			p = &partial{gen: gen, contentLength: plen}
			isNew = true
		} else {
			p = s.partials["tok:"+tok]
			if p == nil || time.Since(p.lastSeen) >= s.cfg.PartialTimeout || ownerKeyOf(p) != owner || p.folder != o.folder {
				fail(zerr(1003, "Partial upload token is invalid, expired, or already used"))
				return
			}
			delete(s.partials, p.key) // single use
			if start != p.received || total != p.total || plen != p.contentLength {
				s.dropPartial(p)
				fail(zerr(1002, ""))
				return
			}
		}
	}
	if isNew {
		p.owner, p.ip, p.folder, p.total = u, remoteIP(r), o.folder, total
		p.hasher, p.inOrder = sha256.New(), true
	}
	if p.pendingRequest {
		fail(zerr(1002, "").old("Invalid partial upload"))
		return
	}
	p.pendingRequest = true
	p.lastSeen = time.Now()
	// Hash in arrival order into a copy, committed only if the chunk is kept.
	var tee hash.Hash
	if p.inOrder && start == p.received {
		tee = cloneHash(p.hasher)
	}
	s.mu.Unlock()

	release := func() {
		s.mu.Lock()
		p.pendingRequest = false
		if gen == genD && !isNew {
			s.dropPartial(p) // a failed continuation discards the upload
		}
		s.mu.Unlock()
	}
	mb, ok := s.multipartReader(w, r)
	if !ok {
		release()
		return
	}
	var extra io.Writer
	if tee != nil {
		extra = tee
	}
	parts, e := s.receiveParts(mb, s.maxFileSize, 1, extra)
	if e != nil {
		release()
		s.writeErr(w, e)
		return
	}
	part := parts[0]
	n := part.rc.n

	s.mu.Lock()
	p.pendingRequest = false
	reject := func(e *apiErr, drop bool) {
		part.discard()
		if drop {
			s.dropPartial(p)
		}
		s.mu.Unlock()
		s.writeErr(w, e)
	}
	switch gen {
	case genC:
		if end-start != n || end > total {
			reject(zerr(1002, ""), false)
			return
		}
	case genD:
		if end-start+1 != n || end >= total || last != (end == total-1) {
			reject(zerr(1002, ""), true)
			return
		}
	}
	if isNew && !s.cfg.FixFirstChunkDoubleCount {
		p.counted = n // the first chunk is stored, then added again below (§9)
	}
	if p.counted+n > s.maxFileSize {
		reject(zerr(5001, "").old("File is too large"), true)
		return
	}
	p.counted += n
	if e := s.quotaErr(u, 1, p.counted); e != nil && u != nil && u.quota != nil && u.quota.MaxBytes > 0 {
		reject(e, true)
		return
	}
	chunkPath := ""
	if part.rc.path != "" {
		chunkPath = filepath.Join(s.storeDir, "chunk-"+newID())
		if err := os.Rename(part.rc.path, chunkPath); err != nil {
			chunkPath = part.rc.path
		}
	}
	p.chunks = append(p.chunks, chunk{start: start, n: n, path: chunkPath})
	if tee != nil {
		p.hasher = tee
	} else {
		p.inOrder = false
	}
	p.received += n
	p.lastSeen = time.Now()

	if gen == genD {
		last = end == total-1
	}
	if !last {
		body := orderedMap{{"files", []any{}}, {"partialSuccess", true}}
		switch gen {
		case genA:
			s.partials[p.key] = p
		case genB, genC:
			s.partials[p.key] = p
			if isNew {
				body = append(body, kv{"partialIdentifier", p.id})
			}
		case genD:
			tok := randString(43, alnum+"-_")
			p.key = "tok:" + tok
			s.partials[p.key] = p
			body = append(body, kv{"partialToken", tok})
		}
		if o.never {
			body = append(body, kv{"deletesAt", "never"})
		} else if o.deletesAt != nil {
			body = append(body, kv{"deletesAt", isoTime(*o.deletesAt)})
		}
		s.mu.Unlock()
		writeJSON(w, 200, body)
		return
	}

	// Final chunk: the file record exists at once; a worker assembles it.
	delete(s.partials, p.key)
	name, e := s.makeName(o, 0, pname, time.Now(), nil)
	if e != nil {
		reject(e, true)
		return
	}
	now := time.Now()
	f := &fileRec{owner: u, updatedAt: now, never: o.never}
	f.ID, f.Name, f.Filename, f.Type = newID(), name, pname, ptype
	if f.Type == "" {
		f.Type = "application/octet-stream"
	}
	if o.originalName {
		f.OriginalName = pname
	}
	f.Options = o.raw.Clone()
	if u != nil {
		f.Owner = u.username
	}
	f.FolderID, f.Password, f.MaxViews = o.folder, o.password, o.maxViews
	if o.deletesAt != nil {
		f.DeletesAt = *o.deletesAt
	}
	f.Chunked, f.CreatedAt = true, now
	route := "/u"
	if gen == genA {
		route = "" // generation A forgot files.route
	}
	f.URL = s.fileURL(r, o, f.Name, route)
	s.files = append(s.files, f)
	inc := &incompleteRec{id: newID(), status: StatusPending, chunksTotal: len(p.chunks), owner: u, file: f, createdAt: now, updatedAt: now}
	s.incomplete = append(s.incomplete, inc)
	s.notify()
	s.mu.Unlock()

	s.wg.Add(1)
	go s.assemble(p, f, inc, ptype == "" && !s.ver.atLeast(4, 7, 0))
	s.writeUploadResponse(w, &uploadOpts{}, []*fileRec{f}, true)
}

func ownerKeyOf(p *partial) string {
	if p.owner == nil {
		return "anon:" + p.ip
	}
	return p.owner.id
}

func cloneHash(h hash.Hash) hash.Hash {
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic(err)
	}
	c := sha256.New()
	if err := c.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		panic(err)
	}
	return c
}

// dropPartial discards an upload and its chunks. Called with s.mu held.
func (s *Server) dropPartial(p *partial) {
	delete(s.partials, p.key)
	for _, c := range p.chunks {
		if c.path != "" {
			os.Remove(c.path)
		}
	}
	p.chunks = nil
}

// expirePartials drops 4.8 uploads idle for Config.PartialTimeout. Called with
// s.mu held.
func (s *Server) expirePartials() {
	for _, p := range s.partials {
		if p.gen == genD && time.Since(p.lastSeen) >= s.cfg.PartialTimeout && !p.pendingRequest {
			s.dropPartial(p)
		}
	}
}

func (s *Server) setIncomplete(inc *incompleteRec, st IncompleteStatus) {
	s.mu.Lock()
	inc.status = st
	inc.updatedAt = time.Now()
	s.notify()
	s.mu.Unlock()
}

// assemble joins the chunks like the server's worker: PENDING, then
// PROCESSING, then COMPLETE (or FAILED).
func (s *Server) assemble(p *partial, f *fileRec, inc *incompleteRec, fail bool) {
	defer s.wg.Done()
	half := s.cfg.ProcessingDelay / 2
	if s.wait(half) != nil {
		return
	}
	if s.cfg.ChunksDisabled && p.gen != genA {
		return // the worker exits: the file never completes
	}
	s.setIncomplete(inc, StatusProcessing)
	if fail {
		s.setIncomplete(inc, StatusFailed)
		return
	}
	sort.Slice(p.chunks, func(i, j int) bool { return p.chunks[i].start < p.chunks[j].start })
	var size int64
	for _, c := range p.chunks {
		size += c.n
	}
	sum := ""
	if p.inOrder {
		sum = hex.EncodeToString(p.hasher.Sum(nil))
	}
	path := ""
	if s.storeDir != "" {
		path = filepath.Join(s.storeDir, f.ID)
		out, err := os.Create(path)
		if err != nil {
			s.setIncomplete(inc, StatusFailed)
			return
		}
		for _, c := range p.chunks {
			in, err := os.Open(c.path)
			if err == nil {
				// Generation A writes at the chunk's offset.
				if p.gen == genA {
					out.Seek(c.start, io.SeekStart)
				}
				_, err = io.Copy(out, in)
				in.Close()
			}
			os.Remove(c.path)
			if err != nil {
				out.Close()
				s.setIncomplete(inc, StatusFailed)
				return
			}
			s.mu.Lock()
			inc.chunksComplete++
			s.mu.Unlock()
		}
		if err := out.Close(); err != nil {
			s.setIncomplete(inc, StatusFailed)
			return
		}
		if !p.inOrder || p.gen == genA {
			// The running hash does not describe the file: hash it.
			if in, err := os.Open(path); err == nil {
				h := sha256.New()
				io.Copy(h, in)
				in.Close()
				sum = hex.EncodeToString(h.Sum(nil))
			}
		}
	} else {
		s.mu.Lock()
		inc.chunksComplete = inc.chunksTotal
		s.mu.Unlock()
	}
	if s.wait(s.cfg.ProcessingDelay-half) != nil {
		return
	}
	s.mu.Lock()
	f.Size, f.SHA256, f.Path, f.Complete = size, sum, path, true
	f.updatedAt = time.Now()
	inc.status, inc.updatedAt = StatusComplete, time.Now()
	s.notify()
	s.mu.Unlock()
}

// wait sleeps d unless the server closes first.
func (s *Server) wait(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-s.done:
		return errClosed
	}
}

func (s *Server) incompleteJSON(inc *incompleteRec) orderedMap {
	var uid any
	if inc.owner != nil {
		uid = inc.owner.id
	}
	return orderedMap{{"id", inc.id}, {"createdAt", isoTime(inc.createdAt)}, {"updatedAt", isoTime(inc.updatedAt)},
		{"status", string(inc.status)}, {"chunksTotal", inc.chunksTotal}, {"chunksComplete", inc.chunksComplete},
		{"userId", uid}, {"metadata", orderedMap{{"file", orderedMap{{"filename", inc.file.Name}, {"type", inc.file.Type}, {"id", inc.file.ID}}}}}}
}

func (s *Server) handleIncompleteGet(w http.ResponseWriter, r *http.Request, _ params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	s.mu.Lock()
	list := []orderedMap{}
	for _, inc := range s.incomplete {
		if inc.owner == u {
			list = append(list, s.incompleteJSON(inc))
		}
	}
	s.mu.Unlock()
	writeJSON(w, 200, list)
}

func (s *Server) handleIncompleteDelete(w http.ResponseWriter, r *http.Request, _ params) {
	u, _, ok := s.authenticate(w, r, false)
	if !ok {
		return
	}
	var body struct {
		ID []string `json:"id"`
	}
	present, ok := s.readJSON(w, r, &body)
	if !ok {
		return
	}
	if !present || body.ID == nil {
		s.schemaErr(w, "id", "Required")
		return
	}
	want := map[string]bool{}
	for _, id := range body.ID {
		want[id] = true
	}
	s.mu.Lock()
	count := 0
	kept := s.incomplete[:0:0]
	for _, inc := range s.incomplete {
		if inc.owner == u && want[inc.id] {
			count++
			continue
		}
		kept = append(kept, inc)
	}
	s.incomplete = kept
	s.mu.Unlock()
	writeJSON(w, 200, orderedMap{{"count", count}})
}

// Incomplete is the processing record of one chunked upload.
type Incomplete struct {
	ID, FileID                  string
	Status                      IncompleteStatus
	ChunksTotal, ChunksComplete int
}

// Incompletes returns every chunked-upload processing record.
func (s *Server) Incompletes() []Incomplete {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Incomplete
	for _, inc := range s.incomplete {
		out = append(out, Incomplete{ID: inc.id, FileID: inc.file.ID, Status: inc.status, ChunksTotal: inc.chunksTotal, ChunksComplete: inc.chunksComplete})
	}
	return out
}
