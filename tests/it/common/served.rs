//! doublure on a real socket: the library's own start sequence
//! (`Application`), started on port 0 and stopped when dropped; and plain
//! HTTP calls to it.

use doublure::testing::AppState;
use doublure::testing::config::Config;
use doublure::testing::startup::Application;

/// A running server, stopped when dropped.
pub struct Served {
    pub addr: std::net::SocketAddr,
    /// Where HTTPS is served, with `--tls`.
    pub tls_addr: Option<std::net::SocketAddr>,
    /// The CA to trust, when doublure made the certificate.
    pub ca_pem: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Served {
    /// Serves `state` on 127.0.0.1:0.
    pub async fn start(state: AppState) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::run(Application::from_parts(listener, state).unwrap())
    }

    /// Starts as the binary does from `config` (fixtures, generation, the
    /// system clock).
    pub async fn build(config: &Config) -> Self {
        Self::run(Application::build(config).await.expect("doublure starts"))
    }

    fn run(app: Application) -> Self {
        let addr = app.local_addr();
        let tls_addr = app.tls_addr();
        let ca_pem = app.ca_pem().map(str::to_owned);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async {
            let _ = rx.await;
        }));
        Self {
            addr,
            tls_addr,
            ca_pem,
            stop: Some(tx),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Asks for a graceful shutdown and waits for the server to end.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.take().unwrap().await.expect("server task")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A GET over a real socket: status and body.
pub async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// A GET over a real socket, its body as JSON.
pub async fn get_json(url: &str) -> serde_json::Value {
    reqwest::get(url)
        .await
        .expect("request")
        .json()
        .await
        .expect("a JSON body")
}
