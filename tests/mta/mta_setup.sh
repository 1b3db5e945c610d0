#!/bin/sh
# Loopback-only "real MTA" preview inbox: a private Postfix instance (own config,
# queue and log under BASE; the system /etc/postfix is only read) delivering every
# recipient of the listed domains into ONE Maildir, plus Dovecot IMAP on loopback.
# Outbound delivery is impossible: default/relay transports are error:, relaying
# is refused, and no smtp client service exists in master.cf.
#
# TLS: the plain listener offers STARTTLS (smtpd_tls_security_level = may) and
# a second listener on SMTPS_PORT speaks implicit TLS (smtpd_tls_wrappermode),
# both with a self-signed certificate for localhost / 127.0.0.1 made here:
# BASE/etc/cert.pem is what a client must trust (mailroom's `[smtp] ca_file`).
#
# usage: mta_setup.sh [BASE=${TMPDIR:-/tmp}/mailroom-anchor-smtp/mta] [SMTP_PORT=2525] [IMAP_PORT=2143] [DOMAINS="example.test preview.test"] [SMTPS_PORT=2465]
# then:  postfix -c BASE/etc start      |  postfix -c BASE/etc stop
#        dovecot -c BASE/dovecot.conf    |  dovecot -c BASE/dovecot.conf stop
# IMAP login: any user name, password "preview"; mailbox = BASE/vmail/preview (Maildir)
# bounces.test, when listed in DOMAINS, is a bounce domain: bounces@ and
# bounces+TAG@ go to BASE/vmail/bounces (a Maildir); any other user there is
# unknown, accepted at RCPT and then bounced with a real DSN (5.1.1) to the
# envelope sender.
set -e
BASE=${1:-${TMPDIR:-/tmp}/mailroom-anchor-smtp/mta}
SMTP_PORT=${2:-2525}
IMAP_PORT=${3:-2143}
DOMAINS=${4:-"example.test preview.test"}
SMTPS_PORT=${5:-2465}
VUID=$(id -u nobody); VGID=$(id -g nobody)

mkdir -p "$BASE/etc" "$BASE/spool" "$BASE/data" "$BASE/vmail" "$BASE/dovecot-run" "$BASE/dovecot-state"
chown postfix "$BASE/data"
chown "$VUID:$VGID" "$BASE/vmail"
touch "$BASE/postfix.log" "$BASE/dovecot.log"
# A P-256 key: much faster to make than RSA, and every TLS client takes it.
# CA:FALSE and serverAuth: rustls (webpki) refuses a server certificate that
# says it is a CA, which is what `openssl req -x509` writes by default.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -keyout "$BASE/etc/key.pem" -out "$BASE/etc/cert.pem" -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -addext basicConstraints=critical,CA:FALSE -addext extendedKeyUsage=serverAuth 2>/dev/null
chmod 600 "$BASE/etc/key.pem"

cat > "$BASE/etc/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $BASE/etc
queue_directory = $BASE/spool
data_directory = $BASE/data
meta_directory = /etc/postfix
maillog_file = $BASE/postfix.log
maillog_file_prefixes = /var, /dev/stdout, $BASE
myhostname = preview.localdomain
mydomain = localdomain
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
mynetworks = 127.0.0.0/8
# never deliver anywhere but the Maildir below
default_transport = error:outbound delivery disabled (preview instance)
relay_transport = error:outbound delivery disabled (preview instance)
relay_domains =
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination
virtual_mailbox_domains = $DOMAINS
virtual_mailbox_base = $BASE/vmail
virtual_mailbox_maps = regexp:$BASE/etc/vmailbox
recipient_delimiter = +
# accept unknown users (of bounces.test) at RCPT: the DSN comes later
smtpd_reject_unlisted_recipient = no
virtual_uid_maps = static:$VUID
virtual_gid_maps = static:$VGID
virtual_mailbox_limit = 0
message_size_limit = 52428800
smtpd_banner = \$myhostname ESMTP preview
biff = no
append_dot_mydomain = no
smtpd_tls_security_level = may
smtpd_tls_cert_file = $BASE/etc/cert.pem
smtpd_tls_key_file = $BASE/etc/key.pem
smtpd_tls_loglevel = 1
smtp_tls_security_level = none
EOF

cat > "$BASE/etc/vmailbox" <<'EOF'
/^bounces(\+[^@]*)?@bounces\.test$/ bounces/
!/@bounces\.test$/ preview/
EOF

cat > "$BASE/etc/master.cf" <<EOF
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
127.0.0.1:$SMTPS_PORT inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

cat > "$BASE/dovecot.conf" <<EOF
base_dir = $BASE/dovecot-run
state_dir = $BASE/dovecot-state
log_path = $BASE/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = static
  args = password=preview
}
userdb {
  driver = static
  args = uid=$VUID gid=$VGID home=$BASE/vmail/preview
}
mail_location = maildir:$BASE/vmail/preview
first_valid_uid = 1
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
EOF
echo "configured $BASE (smtp+starttls 127.0.0.1:$SMTP_PORT, smtps 127.0.0.1:$SMTPS_PORT, imap 127.0.0.1:$IMAP_PORT, domains: $DOMAINS)"
