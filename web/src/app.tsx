import { lazy, Suspense } from "preact/compat";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, errorMessage, setApiToken, setUnauthorizedHandler } from "./api/client.js";
import type { Me } from "./api/types.js";
import { AlertsButton } from "./components/AlertsPanel.js";
import { ErrorBoundary, Loading } from "./components/states.js";
import { OfflineBanner, StreamIndicator } from "./components/StreamIndicator.js";
import { href, useRoute } from "./lib/router.js";
import { clearToken, loadToken, saveToken } from "./lib/token-store.js";
import { NowPage } from "./pages/Now.js";
import { SignIn } from "./pages/SignIn.js";
import { AppProvider, useApp } from "./state/app.js";

/**
 * Now is in the first load; every other page is a chunk of its own, fetched when it is first
 * opened (the claims map brings the pattern language, Trends its chart library, Contracts the
 * line diff), so the first load carries the shell and Now alone.
 */
const ActivityPage = lazy(() => import("./pages/Activity.js").then((m) => m.ActivityPage));
const ClaimsPage = lazy(() => import("./pages/claims/index.js").then((m) => m.ClaimsPage));
const ConflictsPage = lazy(() => import("./pages/Conflicts.js").then((m) => m.ConflictsPage));
const ContractsPage = lazy(() => import("./pages/Contracts.js").then((m) => m.ContractsPage));
const MessagesPage = lazy(() => import("./pages/Messages.js").then((m) => m.MessagesPage));
const TrendsPage = lazy(() => import("./pages/Trends.js").then((m) => m.TrendsPage));
const entity = () => import("./pages/Entity.js");
const DeveloperPage = lazy(() => entity().then((m) => m.DeveloperPage));
const TeamPage = lazy(() => entity().then((m) => m.TeamPage));
const AgentPage = lazy(() => entity().then((m) => m.AgentPage));
const SessionPage = lazy(() => entity().then((m) => m.SessionPage));
const RepoPage = lazy(() => entity().then((m) => m.RepoPage));

const PAGES = [
  { id: "now", label: "Now", component: NowPage },
  { id: "activity", label: "Activity", component: ActivityPage },
  { id: "claims", label: "Claims map", component: ClaimsPage },
  { id: "conflicts", label: "Conflicts", component: ConflictsPage },
  { id: "contracts", label: "Contracts", component: ContractsPage },
  { id: "messages", label: "Messages", component: MessagesPage },
  { id: "trends", label: "Trends", component: TrendsPage },
] as const;

/** Pages of one thing, reached from its name wherever it appears (not in the tab bar). */
const ENTITY_PAGES = [
  { id: "developer", label: "Developer", component: DeveloperPage },
  { id: "team", label: "Team", component: TeamPage },
  { id: "agent", label: "Agent", component: AgentPage },
  { id: "session", label: "Session", component: SessionPage },
  { id: "repo", label: "Repository", component: RepoPage },
] as const;

/** Why the token was refused, in words a person can act on. */
export function signInMessage(err: unknown): string {
  if (err instanceof ApiError) {
    switch (err.code) {
      case "auth.token_expired":
        return "That token has expired. Mint a new one (brigade token create, or POST /v1/tokens) and paste it here.";
      case "auth.token_revoked":
        return "That token has been revoked. Ask an admin for a new one, or mint one with another valid token.";
      case "auth.invalid_token":
      case "auth.missing_token":
        return "That token was not accepted: it is not a valid Brigade token for this server. Check that you copied all of it.";
      default:
        if (err.status === 401) return `That token was not accepted: ${err.message}`;
        if (err.status === 0) return err.message;
        return `The server could not check the token (${err.status}): ${err.message}`;
    }
  }
  return errorMessage(err);
}

type Auth =
  | { state: "checking"; token: string }
  | { state: "signed-out"; message?: string }
  | { state: "signed-in"; token: string; me: Me };

export function App() {
  const [auth, setAuth] = useState<Auth>(() => {
    const token = loadToken();
    return token ? { state: "checking", token } : { state: "signed-out" };
  });

  const signOut = useCallback((message?: string) => {
    clearToken();
    setApiToken(null);
    setAuth(message ? { state: "signed-out", message } : { state: "signed-out" });
  }, []);

  useEffect(() => {
    setUnauthorizedHandler((err) => signOut(signInMessage(err)));
  }, [signOut]);

  const signIn = useCallback(async (token: string) => {
    const me = await api<Me>("/v1/me", { token });
    saveToken(token);
    setApiToken(token);
    setAuth({ state: "signed-in", token, me });
  }, []);

  useEffect(() => {
    if (auth.state !== "checking") return;
    signIn(auth.token).catch((err: unknown) => {
      // A stored token the server no longer accepts: back to sign-in, saying why.
      if (err instanceof ApiError && err.status === 401) signOut(signInMessage(err));
      else setAuth({ state: "signed-out", message: signInMessage(err) });
    });
  }, [auth, signIn, signOut]);

  if (auth.state === "checking") {
    return (
      <main id="main" class="signin">
        <Loading what="your account" />
      </main>
    );
  }
  if (auth.state === "signed-out") return <SignIn message={auth.message} onSignIn={signIn} describeError={signInMessage} />;
  return (
    <AppProvider me={auth.me} token={auth.token} onAuthLost={signOut}>
      <Shell onSignOut={() => signOut()} />
    </AppProvider>
  );
}

/**
 * The page tabs. On a phone they scroll sideways: an arrow over a fading edge says more tabs lie
 * that way (and scrolls there), and the current or focused tab is scrolled into sight.
 */
function TabBar({ current }: { current: string }) {
  const list = useRef<HTMLUListElement>(null);
  const [more, setMore] = useState({ left: false, right: false });

  const measure = useCallback(() => {
    const ul = list.current;
    if (!ul) return;
    const left = ul.scrollLeft > 1;
    const right = ul.scrollLeft + ul.clientWidth < ul.scrollWidth - 1;
    setMore((m) => (m.left === left && m.right === right ? m : { left, right }));
  }, []);

  const reveal = useCallback(
    (tab: Element | null | undefined) => {
      const ul = list.current;
      if (!ul || !(tab instanceof HTMLElement) || ul.scrollWidth <= ul.clientWidth) return;
      // Scrolls the tab bar only (scrollIntoView would also move the page), leaving room for the arrows.
      const room = 32;
      const start = tab.offsetLeft - ul.offsetLeft;
      const end = start + tab.offsetWidth;
      if (start - room < ul.scrollLeft) ul.scrollLeft = Math.max(0, start - room);
      else if (end + room > ul.scrollLeft + ul.clientWidth) ul.scrollLeft = end + room - ul.clientWidth;
      measure();
    },
    [measure],
  );

  useEffect(() => {
    reveal(list.current?.querySelector('a[aria-current="page"]'));
    measure();
  }, [current, reveal, measure]);

  useEffect(() => {
    window.addEventListener("resize", measure);
    return () => window.removeEventListener("resize", measure);
  }, [measure]);

  const step = (direction: 1 | -1) => {
    const ul = list.current;
    if (ul) ul.scrollBy({ left: direction * ul.clientWidth * 0.7, behavior: "smooth" });
  };

  return (
    <nav aria-label="Pages" class="nav" data-more-left={more.left || undefined} data-more-right={more.right || undefined}>
      {/* Pointer aids only: keyboard users move along the tabs themselves, and each is revealed on focus. */}
      <button type="button" class="nav-more nav-more-left" tabIndex={-1} aria-hidden="true" onClick={() => step(-1)}>
        ‹
      </button>
      <ul ref={list} onScroll={measure} onFocusIn={(e) => reveal((e.target as Element).closest("a"))}>
        {PAGES.map((p) => (
          <li key={p.id}>
            <a href={href(p.id)} aria-current={p.id === current ? "page" : undefined}>
              {p.label}
            </a>
          </li>
        ))}
      </ul>
      <button type="button" class="nav-more nav-more-right" tabIndex={-1} aria-hidden="true" onClick={() => step(1)}>
        ›
      </button>
    </nav>
  );
}

function Shell({ onSignOut }: { onSignOut(): void }) {
  const app = useApp();
  const route = useRoute();
  const entity = ENTITY_PAGES.find((p) => p.id === route.page);
  const page = entity ?? PAGES.find((p) => p.id === route.page) ?? PAGES[0];
  const Page = page.component;

  useEffect(() => {
    // An entity page (and a message thread) names itself once its data is there.
    if (!entity && page.id !== "messages") document.title = `${page.label} · Brigade`;
  }, [page, entity]);

  return (
    <>
      <a
        class="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById("main")?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="topbar">
        <div class="brand">
          <span class="brand-name">Brigade</span>
          <span class="brand-org">{app.me.org.name}</span>
        </div>
        <TabBar current={page.id} />
        <div class="topbar-tools">
          <StreamIndicator />
          <AlertsButton />
          <div class="whoami">
            <span class="whoami-name">{app.me.user.displayName || app.me.user.name}</span>
            <span class={`role role-${app.role}`}>{app.me.via === "session" ? `${app.role} · session token` : app.role}</span>
            <button type="button" class="button button-quiet" onClick={onSignOut}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <OfflineBanner />
      {app.me.via === "session" ? (
        <p class="banner banner-info">
          You signed in with an agent's session token: you see what that agent may see, and nothing that needs a personal token.
        </p>
      ) : null}
      <main id="main" tabIndex={-1}>
        <ErrorBoundary resetKey={`${page.id}?${route.params.toString()}`}>
          <Suspense fallback={<Loading what={`the ${page.label} page`} />}>
            <Page params={route.params} />
          </Suspense>
        </ErrorBoundary>
      </main>
    </>
  );
}
