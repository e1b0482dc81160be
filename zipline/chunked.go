package zipline

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// firstChunkSize is small on purpose: 4.4–4.6 count the first chunk twice
// against maxFileSize and the quota (spec §9), so a big first chunk loses
// that much of the limit.
const firstChunkSize = 64 << 10

// firstChunk is the first chunk's size for a file of total bytes: small
// enough that total plus it stays within maxFileSize (limit, 0 if unknown),
// so a file just under the limit is not sent whole and then refused.
func firstChunk(total, chunkSize, limit int64) int64 {
	n := min(firstChunkSize, chunkSize, total)
	if limit > 0 && total+n > limit {
		n = max(1, limit-total)
	}
	return n
}

// ErrUploadFailed: the server took every chunk but failed to assemble the
// file (status FAILED). Upload it again.
var ErrUploadFailed = errors.New("the server failed to put the uploaded chunks together; upload the file again")

// chunkState is the continuation protocol of one chunked upload (§3.7).
type chunkState struct {
	first      int64  // the first chunk's size, see firstChunk
	endpoint   string // /api/upload/partial, or /api/upload for generation A
	identifier string // client-made, replaced by the server's (B, C)
	token      string // single-use continuation token (D)
	exclusive  bool   // Content-Range end is start+len (4.7.0 regression)
}

func randomID(n int) string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// uploadChunked runs the portable algorithm of §3.7. An E1003 on a later
// chunk (upload expired, token used, server restarted) starts over once.
func (c *Client) uploadChunked(ctx context.Context, u Upload, lim Limits, hdr http.Header, opts UploadOptions, p Progress) (*UploadedFile, error) {
	chunkSize := lim.ChunkSize
	st := &chunkState{endpoint: "/api/upload/partial", first: firstChunk(u.Size, chunkSize, lim.MaxFileSize)}
	for attempt := 0; ; attempt++ {
		st.identifier, st.token = randomID(8), ""
		f, restart, err := c.sendChunks(ctx, st, u, chunkSize, hdr, opts, p)
		if err != nil {
			if restart && attempt == 0 {
				continue
			}
			return nil, err
		}
		if err := c.WaitComplete(ctx, f.ID); err != nil {
			if errors.Is(err, ErrUploadFailed) {
				return nil, err
			}
			f.Pending = true
			return f, err
		}
		f.Pending = false
		return f, nil
	}
}

// sendChunks sends every chunk once; restart reports an E1003 after the
// first chunk.
func (c *Client) sendChunks(ctx context.Context, st *chunkState, u Upload, chunkSize int64, hdr http.Header, opts UploadOptions, p Progress) (_ *UploadedFile, restart bool, _ error) {
	r, err := u.Open()
	if err != nil {
		return nil, false, err
	}
	defer r.Close()
	total := u.Size
	// The first chunk is kept in memory (≤ 64 KiB) so it can be re-sent.
	first := make([]byte, st.first)
	if _, err := io.ReadFull(r, first); err != nil {
		return nil, false, fmt.Errorf("%w (%v)", ErrFileChanged, err)
	}
	var offset int64
	for offset < total {
		n := min(chunkSize, total-offset)
		var body func() (io.ReadCloser, error)
		if offset == 0 {
			n = int64(len(first))
			body = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(first)), nil }
		} else {
			body = func() (io.ReadCloser, error) { return io.NopCloser(r), nil }
		}
		last := offset+n == total
		tries := 0
		for {
			reply, resp, rbody, err := c.sendChunk(ctx, st, u, offset, n, last, hdr, body, p)
			if err != nil {
				return nil, false, fmt.Errorf("chunk at %d of %d bytes: %w", offset, total, err)
			}
			if reply != nil {
				if reply.PartialToken != "" {
					st.token = reply.PartialToken
				} else if reply.PartialIdentifier != "" {
					st.identifier = reply.PartialIdentifier
				}
				if last {
					if len(reply.Files) == 0 || reply.Files[0].ID == "" {
						return nil, false, fmt.Errorf("the server accepted the last chunk but named no file: %w", c.badAnswer(resp, rbody))
					}
					f := reply.Files[0]
					return &f, false, nil
				}
				break
			}
			e := c.uploadError(resp, rbody, opts, 0)
			tries++
			if offset == 0 && tries == 1 {
				a := &answer{status: resp.StatusCode, header: resp.Header, body: rbody}
				if st.endpoint == "/api/upload/partial" && a.fastify404() {
					// Generation A (4.0–4.2.1): chunks go to /api/upload with
					// the client's identifier.
					st.endpoint = "/api/upload"
					continue
				}
				if e.Code == 1002 && st.token == "" && !st.exclusive {
					// 4.7.0 checks an exclusive end (#1142).
					st.exclusive = true
					continue
				}
			}
			if e.Code == 1003 && offset > 0 {
				return nil, true, fmt.Errorf("chunk at %d of %d bytes: %w", offset, total, e)
			}
			return nil, false, fmt.Errorf("chunk at %d of %d bytes: %w", offset, total, e)
		}
		offset += n
	}
	return nil, false, errors.New("empty file")
}

// sendChunk posts one chunk. A 2xx answer gives reply; otherwise reply is
// nil and resp/body carry the error answer.
func (c *Client) sendChunk(ctx context.Context, st *chunkState, u Upload, offset, n int64, last bool, hdr http.Header, body func() (io.ReadCloser, error), p Progress) (*uploadReply, *http.Response, []byte, error) {
	h := hdr.Clone()
	end := offset + n - 1
	if st.exclusive {
		end = offset + n
	}
	h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", offset, end, u.Size))
	h.Set("X-Zipline-P-Filename", encodeFilename(u.Name))
	h.Set("X-Zipline-P-Content-Type", u.ContentType)
	h.Set("X-Zipline-P-Content-Length", strconv.FormatInt(u.Size, 10))
	h.Set("X-Zipline-P-Lastchunk", strconv.FormatBool(last))
	if st.token != "" {
		h.Set("X-Zipline-P-Token", st.token)
	} else {
		h.Set("X-Zipline-P-Identifier", st.identifier)
	}
	sent := offset
	tick := func(k int64) {
		sent += k
		if p != nil {
			p(sent, u.Size)
		}
	}
	pt := filePart("blob", "application/octet-stream", n, body)
	// The last chunk must end the file: one that grew is reported, as a
	// single-request upload's is.
	pt.slice, pt.unchanged = !last, u.Unchanged
	resp, rbody, err := c.postMultipart(ctx, st.endpoint, h, []part{pt}, tick)
	if err != nil {
		return nil, nil, nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, resp, rbody, nil
	}
	reply, err := parseUploadReply(rbody)
	if err != nil {
		return nil, nil, nil, c.badAnswer(resp, rbody)
	}
	return reply, resp, rbody, nil
}

// incompleteJSON is one entry of /api/user/files/incomplete.
type incompleteJSON struct {
	IncompleteFile
	Metadata struct {
		File struct {
			ID string `json:"id"`
		} `json:"file"`
	} `json:"metadata"`
}

// Incomplete lists chunked uploads the server is still assembling.
func (c *Client) Incomplete(ctx context.Context) ([]IncompleteFile, error) {
	var raw []incompleteJSON
	if err := c.call(ctx, http.MethodGet, "/api/user/files/incomplete", nil, nil, nil, &raw); err != nil {
		return nil, fmt.Errorf("list incomplete uploads: %w", err)
	}
	out := make([]IncompleteFile, len(raw))
	for i, r := range raw {
		out[i] = r.IncompleteFile
		out[i].FileID = r.Metadata.File.ID
	}
	return out, nil
}

// pollDelays start fast (small files finish in well under a second) and
// settle at the 2 s the spec suggests.
var pollDelays = []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}

// maxAssembleWait bounds WaitComplete when ctx has no deadline.
const maxAssembleWait = 30 * time.Minute

// WaitComplete polls /api/user/files/incomplete until the file is COMPLETE or FAILED.
// When the server has no record of it, the file itself is checked: a size
// above 0 means it was assembled.
func (c *Client) WaitComplete(ctx context.Context, fileID string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, maxAssembleWait)
		defer cancel()
	}
	missing, transient := 0, 0
	for i := 0; ; i++ {
		list, err := c.Incomplete(ctx)
		switch {
		case err == nil:
			transient = 0
			found := false
			for _, f := range list {
				if f.FileID != fileID {
					continue
				}
				found = true
				switch f.Status {
				case "COMPLETE":
					return nil
				case "FAILED":
					return ErrUploadFailed
				}
			}
			if !found {
				missing++
			}
		case errors.Is(err, ErrNotFound):
			missing++ // no such route: look at the file itself
		case Retryable(err) && transient < 5 && ctx.Err() == nil:
			transient++
		default:
			return fmt.Errorf("waiting for the server to assemble the file: %w", err)
		}
		if missing >= 2 {
			f, err := c.File(ctx, fileID)
			switch {
			case err == nil && f.Size > 0:
				return nil
			case errors.Is(err, ErrNotFound):
				return fmt.Errorf("waiting for the server to assemble the file: it is gone from the server: %w", ErrUploadFailed)
			case err != nil && !Retryable(err):
				return fmt.Errorf("waiting for the server to assemble the file: %w", err)
			}
		}
		if err := sleepCtx(ctx, pollDelays[min(i, len(pollDelays)-1)]); err != nil {
			return fmt.Errorf("waiting for the server to assemble the file: %w", err)
		}
	}
}
