//! A small scriptable SMTP server on loopback, for faults smtp-sink cannot
//! make: a reply per recipient, an EHLO it does not know, a slow or lost
//! reply after the final `.`. One thread per connection; it records every
//! message it accepted (and every message whose final `.` it read).
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The reply to `RCPT TO:<addr>` for an address (`None` accepts).
pub type RcptRule = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// How the server behaves.
#[derive(Clone)]
pub struct Script {
    /// Reject EHLO with `502` (HELO still works).
    pub no_ehlo: bool,
    /// The reply to `RCPT TO:<addr>`: `None` accepts.
    pub rcpt: RcptRule,
    /// Wait this long before replying to the final `.`.
    pub final_delay: Duration,
    /// Close the connection instead of replying to the final `.`.
    pub drop_after_data: bool,
    /// Offer PIPELINING (RFC 2920); DATA with no accepted recipient then
    /// gets `554`, as Postfix answers.
    pub pipelining: bool,
    /// With `pipelining`: answer DATA with `354` even when every recipient
    /// was refused (a sloppy relay).
    pub data_after_refusal: bool,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            no_ehlo: false,
            rcpt: Arc::new(|_| None),
            final_delay: Duration::ZERO,
            drop_after_data: false,
            pipelining: false,
            data_after_refusal: false,
        }
    }
}

/// A running server; it stops taking connections when dropped.
pub struct Relay {
    pub port: u16,
    /// Recipients of every message whose final `.` arrived, in order.
    pub received: Arc<Mutex<Vec<String>>>,
    /// Every command verb it was sent (`EHLO`, `HELO`, `MAIL`, …).
    pub verbs: Arc<Mutex<Vec<String>>>,
    /// MAIL commands that arrived with their RCPT and DATA already behind
    /// them (pipelined).
    pub batched: Arc<std::sync::atomic::AtomicUsize>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Relay {
    /// Starts the server on `127.0.0.1`.
    pub fn start(script: Script) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let verbs = Arc::new(Mutex::new(Vec::new()));
        let batched = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (r, v, s, b) = (
            received.clone(),
            verbs.clone(),
            stop.clone(),
            batched.clone(),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (script, r, v, b) = (script.clone(), r.clone(), v.clone(), b.clone());
                std::thread::spawn(move || {
                    let _ = session(conn, &script, &r, &v, &b);
                });
            }
        });
        Relay {
            port,
            received,
            verbs,
            batched,
            stop,
        }
    }

    /// The recipients received so far.
    pub fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn session(
    conn: TcpStream,
    script: &Script,
    received: &Mutex<Vec<String>>,
    verbs: &Mutex<Vec<String>>,
    batched: &std::sync::atomic::AtomicUsize,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    conn.set_nodelay(true)?;
    let mut out = conn.try_clone()?;
    let mut input = BufReader::new(conn);
    out.write_all(b"220 test.relay ESMTP\r\n")?;
    let mut rcpt = String::new();
    let mut accepted = false;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let verb = line
            .split([' ', '\r', '\n', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        verbs.lock().unwrap().push(verb.clone());
        let reply = match verb.as_str() {
            "EHLO" if script.no_ehlo => "502 5.5.2 Error: command not recognized".to_owned(),
            "EHLO" if script.pipelining => {
                "250-test.relay\r\n250-PIPELINING\r\n250 8BITMIME".to_owned()
            }
            "EHLO" => "250-test.relay\r\n250 8BITMIME".to_owned(),
            "HELO" => "250 test.relay".to_owned(),
            "MAIL" | "RSET" => {
                accepted = false;
                if verb == "MAIL" && memchr_data(input.buffer()) {
                    batched.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                "250 2.0.0 Ok".to_owned()
            }
            "NOOP" => "250 2.0.0 Ok".to_owned(),
            "RCPT" => {
                rcpt = line
                    .split_once('<')
                    .and_then(|(_, r)| r.split_once('>'))
                    .map(|(a, _)| a.to_owned())
                    .unwrap_or_default();
                let reply = (script.rcpt)(&rcpt);
                accepted |= reply.is_none();
                reply.unwrap_or_else(|| "250 2.1.5 Ok".to_owned())
            }
            "DATA" if script.pipelining && !accepted && !script.data_after_refusal => {
                "554 5.5.1 Error: no valid recipients".to_owned()
            }
            "DATA" => {
                out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
                loop {
                    line.clear();
                    if input.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                }
                received.lock().unwrap().push(rcpt.clone());
                if script.drop_after_data {
                    return Ok(());
                }
                std::thread::sleep(script.final_delay);
                "250 2.0.0 Ok: queued".to_owned()
            }
            "QUIT" => {
                out.write_all(b"221 2.0.0 Bye\r\n")?;
                return Ok(());
            }
            _ => "502 5.5.2 Error: command not recognized".to_owned(),
        };
        // One write per reply: two small writes stall ~40 ms each on Nagle
        // and delayed ACKs.
        out.write_all(format!("{reply}\r\n").as_bytes())?;
    }
}

/// Whether `buf` (what is already read but not yet parsed) holds a DATA
/// command.
fn memchr_data(buf: &[u8]) -> bool {
    buf.windows(6).any(|w| w == b"DATA\r\n")
}
