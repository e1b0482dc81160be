package ziplinetest

import (
	"fmt"
	"net/http"
	"strconv"
)

// defaultText is ApiError's default message per Zipline code (≥4.5).
var defaultText = map[int]string{
	1000: "Invalid request schema",
	1001: "Invalid upload options",
	1002: "Invalid partial upload",
	1003: "Partial upload identifier is invalid",
	1004: "Partial upload was not detected",
	1005: "Partial uploads only support one file field",
	1006: "File extension is not allowed",
	1007: "Invalid characters in filename",
	1008: "Invalid characters in original filename",
	1009: "Invalid filename",
	1042: "Vanity already taken",
	1044: "Invalid username or password",
	1045: "Invalid code",
	1061: "Invalid multipart/form-data request",
	1062: "No files in multipart/form-data request",
	2000: "Invalid login session",
	2001: "Invalid token",
	3000: "Forbidden",
	3002: "Folder is not open",
	3011: "You do not own this folder",
	4000: "File not found",
	4001: "Folder not found",
	5001: "File is too large",
	5002: "Storage quota exceeded",
	6001: "Failed to fetch version details",
	9001: "Forbidden",
	9002: "Not found",
	9004: "Internal server error",
}

// statusFor maps a Zipline code to its HTTP status (ApiError.codeToHttpStatus).
func statusFor(code int) int {
	switch {
	case code == 9000:
		return 400
	case code == 9001:
		return 403
	case code == 9002:
		return 404
	case code == 9004:
		return 500
	case code >= 1000 && code < 2000:
		return 400
	case code >= 2000 && code < 3000:
		return 401
	case code >= 3000 && code < 4000:
		return 403
	case code >= 4000 && code < 5000:
		return 404
	case code >= 5000 && code < 6000:
		return 413
	default:
		return 500
	}
}

// apiErr is one of Zipline's own errors. msg "" means the default text;
// legacy is the ≤4.4 wording when it differs from msg.
type apiErr struct {
	code   int
	msg    string
	legacy string
	extra  map[string]any
}

func zerr(code int, msg string) *apiErr { return &apiErr{code: code, msg: msg} }

// old sets the message the 4.0–4.4 servers used instead.
func (e *apiErr) old(legacy string) *apiErr { e.legacy = legacy; return e }

func (e *apiErr) Error() string { return fmt.Sprintf("E%d: %s", e.code, e.text()) }

func (e *apiErr) text() string {
	if e.msg != "" {
		return e.msg
	}
	return defaultText[e.code]
}

// writeErr answers e in the body shape of the configured version (§1.1).
func (s *Server) writeErr(w http.ResponseWriter, e *apiErr) {
	status := statusFor(e.code)
	if s.ver.atLeast(4, 5, 0) {
		body := orderedMap{{"error", "E" + strconv.Itoa(e.code) + ": " + e.text()}, {"code", e.code}, {"statusCode", status}}
		for k, v := range e.extra {
			body = append(body, kv{k, v})
		}
		writeJSON(w, status, body)
		return
	}
	msg := e.legacy
	if msg == "" {
		msg = e.text()
	}
	body := orderedMap{{"error", msg}, {"statusCode", status}}
	for k, v := range e.extra {
		body = append(body, kv{k, v})
	}
	writeJSON(w, status, body)
}

// writePlainErr answers an error that does not come from Zipline's own code
// (Fastify, the rate limiter): {"error","statusCode"} in every version.
func writePlainErr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, orderedMap{{"error", msg}, {"statusCode", status}})
}

// writeRouteNotFound is Fastify's 404 for an unknown route or method.
func writeRouteNotFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 404, orderedMap{
		{"message", "Route " + r.Method + ":" + r.URL.RequestURI() + " not found"},
		{"error", "Not Found"},
		{"statusCode", 404},
	})
}

// schemaErr is a Zod validation failure: the Zod message as error, and
// from 4.5 the code 1000 (§1).
func (s *Server) schemaErr(w http.ResponseWriter, path, message string) {
	issue := orderedMap{{"code", "custom"}, {"path", []string{path}}, {"message", message}}
	body := orderedMap{{"error", path + ": " + message}, {"statusCode", 400}}
	if s.ver.atLeast(4, 5, 0) {
		body = append(body, kv{"code", 1000})
	}
	writeJSON(w, 400, append(body, kv{"issues", []any{issue}}))
}

// kv and orderedMap keep JSON keys in the server's order.
type kv struct {
	k string
	v any
}

type orderedMap []kv

func (m orderedMap) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, p := range m {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, marshal(p.k)...)
		b = append(b, ':')
		b = append(b, marshal(p.v)...)
	}
	return append(b, '}'), nil
}
