package zipline

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// fileJSON is the listing File, read leniently: 4.8 may send sizes as
// strings, dates may be null.
type fileJSON struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	OriginalName *string         `json:"originalName"`
	Type         string          `json:"type"`
	Size         json.RawMessage `json:"size"`
	Views        int             `json:"views"`
	MaxViews     *int            `json:"maxViews"`
	CreatedAt    string          `json:"createdAt"`
	DeletesAt    *string         `json:"deletesAt"`
	FolderID     *string         `json:"folderId"`
	URL          string          `json:"url"`
}

func (c *Client) file(j *fileJSON) File {
	f := File{ID: j.ID, Name: j.Name, Type: j.Type, Views: j.Views, MaxViews: j.MaxViews, FolderID: j.FolderID}
	if j.OriginalName != nil {
		f.OriginalName = *j.OriginalName
	}
	var n float64
	if json.Unmarshal(j.Size, &n) == nil {
		f.Size = int64(n)
	} else if s := jsonString(j.Size); s != "" {
		f.Size, _ = strconv.ParseInt(s, 10, 64)
	}
	f.CreatedAt, _ = time.Parse(time.RFC3339Nano, j.CreatedAt)
	if j.DeletesAt != nil {
		if t, err := time.Parse(time.RFC3339Nano, *j.DeletesAt); err == nil {
			f.DeletesAt = &t
		}
	}
	switch {
	case strings.HasPrefix(j.URL, "http://"), strings.HasPrefix(j.URL, "https://"):
		f.URL = j.URL
	case strings.HasPrefix(j.URL, "/"):
		f.URL = c.opts.Server + j.URL
	}
	return f
}

// Recent lists the newest files (take 1..100).
func (c *Client) Recent(ctx context.Context, take int) ([]File, error) {
	take = min(max(take, 1), 100)
	var raw []fileJSON
	if err := c.call(ctx, http.MethodGet, "/api/user/recent", url.Values{"take": {strconv.Itoa(take)}}, nil, nil, &raw); err != nil {
		return nil, fmt.Errorf("recent files: %w", err)
	}
	out := make([]File, len(raw))
	for i := range raw {
		out[i] = c.file(&raw[i])
	}
	return out, nil
}

// File looks one file up by id or name; ErrNotFound if it is gone.
func (c *Client) File(ctx context.Context, idOrName string) (*File, error) {
	if idOrName == "" {
		return nil, fmt.Errorf("file lookup: no id given: %w", ErrNotFound)
	}
	var raw fileJSON
	if err := c.call(ctx, http.MethodGet, "/api/user/files/"+url.PathEscape(idOrName), nil, nil, nil, &raw); err != nil {
		return nil, fmt.Errorf("file %s: %w", idOrName, err)
	}
	if raw.ID == "" {
		return nil, fmt.Errorf("file %s: %w: no file in the answer", idOrName, ErrNotZipline)
	}
	f := c.file(&raw)
	return &f, nil
}

// DeleteFile deletes a file on the server.
func (c *Client) DeleteFile(ctx context.Context, idOrName string) (*File, error) {
	if idOrName == "" {
		return nil, fmt.Errorf("delete file: no id given: %w", ErrNotFound)
	}
	var raw fileJSON
	if err := c.call(ctx, http.MethodDelete, "/api/user/files/"+url.PathEscape(idOrName), nil, nil, nil, &raw); err != nil {
		return nil, fmt.Errorf("delete %s: %w", idOrName, err)
	}
	if raw.ID == "" {
		return nil, fmt.Errorf("delete %s: %w: no file in the answer", idOrName, ErrNotZipline)
	}
	f := c.file(&raw)
	return &f, nil
}

// Folders lists the user's folders.
func (c *Client) Folders(ctx context.Context) ([]Folder, error) {
	var out []Folder
	if err := c.call(ctx, http.MethodGet, "/api/user/folders", url.Values{"noincl": {"true"}}, nil, nil, &out); err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	return out, nil
}

// Shorten creates a short URL.
func (c *Client) Shorten(ctx context.Context, destination string, o ShortenOptions) (*ShortURL, error) {
	in := map[string]string{"destination": destination}
	if o.Vanity != "" {
		in["vanity"] = o.Vanity
	}
	h := http.Header{}
	if o.MaxViews < 0 {
		return nil, fmt.Errorf("shorten: max views must be positive, not %d", o.MaxViews)
	}
	if o.MaxViews > 0 {
		h.Set("X-Zipline-Max-Views", strconv.Itoa(o.MaxViews))
	}
	for k, v := range map[string]string{"X-Zipline-Password": o.Password, "X-Zipline-Domain": o.Domain} {
		if strings.ContainsAny(v, "\r\n\x00") {
			return nil, fmt.Errorf("shorten: %s must be on one line", k)
		}
		if v != "" {
			h.Set(k, v)
		}
	}
	var out ShortURL
	if err := c.call(ctx, http.MethodPost, "/api/user/urls", nil, h, in, &out); err != nil {
		return nil, fmt.Errorf("shorten %s: %w", destination, err)
	}
	return &out, nil
}
