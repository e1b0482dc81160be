package auth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// NormalizeServer turns what a user typed into the base URL used as the
// keyring key and in the settings: "https://host[:port][/prefix]" with a
// lower-case scheme and host, no default port, no trailing slash. A bare
// host gets https://.
func NormalizeServer(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("no server address given")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid address: use https://your.zipline.host", s)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("%q: the address must start with https:// or http://", s)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("%q has no host name: use https://your.zipline.host", s)
	}
	if u.User != nil {
		return "", errors.New("the server address must not contain a user name or password")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q: remove the ?query or #fragment from the address", s)
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" || strings.Contains(host, ":") {
		if port == "" {
			host = "[" + host + "]"
		} else {
			host = net.JoinHostPort(host, port)
		}
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	// A pasted dashboard or API URL still means the server itself.
	for _, suffix := range []string{"/dashboard", "/auth/login", "/api"} {
		if i := strings.Index(path, suffix); i >= 0 && (len(path) == i+len(suffix) || path[i+len(suffix)] == '/') {
			path = strings.TrimRight(path[:i], "/")
			break
		}
	}
	return u.Scheme + "://" + host + path, nil
}
