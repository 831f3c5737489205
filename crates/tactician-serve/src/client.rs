//! A minimal HTTP/1.1 client over one kept-alive connection (TCP or a Unix socket), for
//! measuring and testing the server from the same machine without a client stack's own costs:
//! requests with a `Content-Length` body, answers read by their `Content-Length`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};

/// One kept-alive connection.
#[derive(Debug)]
pub struct Conn<S> {
    reader: BufReader<S>,
    head: Vec<u8>,
}

/// A connection to `addr` over TCP, without Nagle's delay.
pub fn tcp(addr: SocketAddr) -> std::io::Result<Conn<TcpStream>> {
    let s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    Ok(Conn::new(s))
}

fn bad(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())
}

impl<S: Read + Write> Conn<S> {
    /// A connection over `stream`.
    pub fn new(stream: S) -> Self {
        Conn {
            reader: BufReader::new(stream),
            head: Vec::new(),
        }
    }

    /// The stream.
    pub fn stream(&mut self) -> &mut S {
        self.reader.get_mut()
    }

    /// Sends `method path` with a JSON `body` (none when empty); returns the status and the
    /// answer's body.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        self.send_typed(method, path, "application/json", body)
    }

    /// Sends `method path` with `body` of `content_type`; returns the status and the answer's
    /// body.
    pub fn send_typed(
        &mut self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        self.head.clear();
        write!(
            self.head,
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        )?;
        self.head.extend_from_slice(body);
        let s = self.reader.get_mut();
        s.write_all(&self.head)?;
        s.flush()?;
        self.read()
    }

    /// Reads one answer: the status and the body.
    pub fn read(&mut self) -> std::io::Result<(u16, Vec<u8>)> {
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status line"))?;
        let mut length = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let h = line.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().map_err(|_| bad("bad content-length"))?;
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok((status, body))
    }

    /// POSTs a JSON value; returns the status and the answer parsed as JSON (a string when it
    /// is not JSON).
    pub fn json(
        &mut self,
        method: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> std::io::Result<(u16, serde_json::Value)> {
        let bytes = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let (status, answer) = self.send(method, path, &bytes)?;
        let value = serde_json::from_slice(&answer)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&answer).into()));
        Ok((status, value))
    }
}
