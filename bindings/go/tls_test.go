package docdb

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate for localhost and 127.0.0.1 (not a CA
// certificate: TLS clients refuse a CA certificate as the server's own) and its key.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	must(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	must(t, err)
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	must(t, os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	must(t, os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600))
	return cert, key
}

// freePort is a TCP port nobody listens on just now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// Connect over tls:// with TLSCAFile and TLSServerName, as the README describes: the
// certificate is verified (its CA, the host name) before the token is sent.
func TestConnectTLS(t *testing.T) {
	cert, key := selfSigned(t, t.TempDir())
	port := freePort(t)
	startServer(t, "--tcp", "127.0.0.1:"+port, "--tls-cert", cert, "--tls-key", key)
	tlsOptions := func(ca, name string) *ConnectOptions {
		o := tokenOptions()
		o.TLSCAFile, o.TLSServerName = ca, name
		return o
	}
	for _, c := range []struct{ url, name string }{
		{"tls://127.0.0.1:" + port, ""},
		{"tls://localhost:" + port, ""},
		{"tls://127.0.0.1:" + port, "localhost"},
	} {
		s, err := Connect(c.url, tlsOptions(cert, c.name))
		must(t, err)
		db := openDB(t, s, "t")
		must(t, db.Put(1, []byte("over TLS")))
		if got, err := db.Read(1); err != nil || string(got) != "over TLS" {
			t.Fatalf("%s: read %q, %v", c.url, got, err)
		}
		must(t, s.Close())
	}
	url := "tls://127.0.0.1:" + port
	// A name the certificate does not carry, another CA: the server is not trusted.
	_, err := Connect(url, tlsOptions(cert, "db.example"))
	wantErr(t, err, ErrUnavailable)
	other, _ := selfSigned(t, t.TempDir())
	_, err = Connect(url, tlsOptions(other, ""))
	wantErr(t, err, ErrUnavailable)
	// No CA, or one that cannot be read: refused before connecting.
	_, err = Connect(url, tlsOptions("", ""))
	wantErr(t, err, ErrInvalidArgument)
	_, err = Connect(url, tlsOptions(filepath.Join(t.TempDir(), "missing.pem"), ""))
	wantErr(t, err, ErrInvalidArgument)
	// The right certificate but a wrong token.
	o := tlsOptions(cert, "")
	o.Token = "wrong"
	_, err = Connect(url, o)
	wantErr(t, err, ErrInvalidArgument)
}
