package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zipline-tray/zipline-tray/auth"
	"github.com/zipline-tray/zipline-tray/zipline/ziplinetest"
)

// review7Cert makes a self-signed certificate for 127.0.0.1.
func review7Cert(t *testing.T) (*tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "my zipline"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	return &cert, certPEM
}

// A self-hosted server's self-signed certificate is renewed; the user puts
// the new one in the CA file the settings name (same path) and signs in
// again. Before AuthAccount kept its client, the next request read the CA
// file again. Now the client is keyed by the CA file's path, not what it
// holds: the tray keeps trusting only the old certificate, and every
// upload and check fails with a certificate error until the tray restarts,
// even after a sign-in that succeeded with the new file.
func TestCAFileRenewedIsTrusted(t *testing.T) {
	srv := ziplinetest.NewServer(ziplinetest.Config{})
	t.Cleanup(srv.Close)
	srv.AddUser("alice", "correct horse", ziplinetest.RoleAdmin)
	tok, err := srv.IssueToken("alice")
	if err != nil {
		t.Fatal(err)
	}
	oldCert, oldPEM := review7Cert(t)
	newCert, newPEM := review7Cert(t)
	var cur atomic.Pointer[tls.Certificate]
	cur.Store(oldCert)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	hs.SetKeepAlivesEnabled(false) // each request makes a new TLS connection
	go hs.Serve(tls.NewListener(ln, &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return cur.Load(), nil
	}}))
	t.Cleanup(func() { hs.Close() })
	url := "https://" + ln.Addr().String()

	dir := t.TempDir()
	caFile := filepath.Join(dir, "my-zipline.pem")
	if err := os.WriteFile(caFile, oldPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.json")
	cfg := auth.Defaults()
	cfg.CAFile = caFile
	if err := cfg.Save(cfgPath); err != nil {
		t.Fatal(err)
	}
	acct := NewAuthAccount(cfgPath, auth.NewMemoryStore())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := acct.SignInToken(ctx, url, tok, false); err != nil {
		t.Fatal(err)
	}
	if _, err := acct.Check(ctx); err != nil {
		t.Fatalf("check with the first certificate: %v", err)
	}

	// The server's certificate is renewed; the user updates the CA file
	// and signs in again.
	cur.Store(newCert)
	if err := os.WriteFile(caFile, newPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := acct.SignInToken(ctx, url, tok, false); err != nil {
		t.Fatalf("sign-in with the renewed CA file: %v", err)
	}
	if _, err := acct.Check(ctx); err != nil {
		t.Errorf("after the CA file was updated with the server's renewed certificate and the sign-in succeeded, "+
			"the tray's client still fails (it was kept by the CA file's path and holds the old certificate): %v", err)
	}
}
