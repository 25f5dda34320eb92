//! [`Future`] types.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::body::ResponseBody;
use super::response::AuthErrorResponder;
use super::service::Shared;
use crate::error::AuthError;

pin_project! {
    /// Response future of [`JwtAuth`](crate::JwtAuth) without a check.
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Future { #[pin] future: F },
        Rejected { response: Option<Response<Bytes>> },
    }
}

impl<F> ResponseFuture<F> {
    #[inline]
    pub(crate) fn future(future: F) -> Self {
        Self {
            kind: Kind::Future { future },
        }
    }

    pub(crate) fn rejected(response: Response<Bytes>) -> Self {
        Self {
            kind: Kind::Rejected {
                response: Some(response),
            },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Future { future } => {
                let res = ready!(future.poll(cx))?;
                Poll::Ready(Ok(res.map(ResponseBody::new)))
            }
            KindProj::Rejected { response } => {
                let res = response
                    .take()
                    .expect("ResponseFuture polled after completion");
                Poll::Ready(Ok(res.map(ResponseBody::full)))
            }
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

pin_project! {
    /// Response future of [`JwtAuth`](crate::JwtAuth) with an [`AuthCheck`](crate::AuthCheck).
    pub struct CheckedResponseFuture<S, Req, KF, R>
    where
        S: Service<Req>,
    {
        #[pin]
        state: State<S, Req, KF, R>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, Req, KF, R>
    where
        S: Service<Req>,
    {
        Checking {
            #[pin]
            check: KF,
            req: Option<Req>,
            inner: Option<S>,
            shared: Arc<Shared>,
            responder: R,
            grpc: bool,
        },
        Calling { #[pin] future: S::Future },
        Rejected { response: Option<Response<Bytes>> },
    }
}

impl<S: Service<Req>, Req, KF, R> CheckedResponseFuture<S, Req, KF, R> {
    pub(crate) fn checking(
        check: KF,
        req: Req,
        inner: S,
        shared: Arc<Shared>,
        responder: R,
        grpc: bool,
    ) -> Self {
        Self {
            state: State::Checking {
                check,
                req: Some(req),
                inner: Some(inner),
                shared,
                responder,
                grpc,
            },
        }
    }

    pub(crate) fn call(future: S::Future) -> Self {
        Self {
            state: State::Calling { future },
        }
    }

    pub(crate) fn rejected(response: Response<Bytes>) -> Self {
        Self {
            state: State::Rejected {
                response: Some(response),
            },
        }
    }
}

impl<S, ReqBody, B, KF, R> Future for CheckedResponseFuture<S, Request<ReqBody>, KF, R>
where
    S: Service<Request<ReqBody>, Response = Response<B>>,
    KF: Future<Output = Result<(), AuthError>>,
    R: AuthErrorResponder,
{
    type Output = Result<Response<ResponseBody<B>>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let mut this = self.as_mut().project();
            match this.state.as_mut().project() {
                StateProj::Checking {
                    check,
                    req,
                    inner,
                    shared,
                    responder,
                    grpc,
                } => match ready!(check.poll(cx)) {
                    Ok(()) => {
                        let req = req.take().expect("polled after completion");
                        let mut inner = inner.take().expect("polled after completion");
                        let future = inner.call(req);
                        this.state.set(State::Calling { future });
                    }
                    Err(e) => {
                        let res = shared.reject(responder, *grpc, e);
                        this.state.set(State::Rejected {
                            response: Some(res),
                        });
                    }
                },
                StateProj::Calling { future } => {
                    let res = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(res.map(ResponseBody::new)));
                }
                StateProj::Rejected { response } => {
                    let res = response
                        .take()
                        .expect("CheckedResponseFuture polled after completion");
                    return Poll::Ready(Ok(res.map(ResponseBody::full)));
                }
            }
        }
    }
}

impl<S: Service<Req>, Req, KF, R> std::fmt::Debug for CheckedResponseFuture<S, Req, KF, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedResponseFuture")
            .finish_non_exhaustive()
    }
}
