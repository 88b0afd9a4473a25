/* GraphiQL on the platform's own assets; queries carry the page's CSRF token. */
(function () {
  var el = document.getElementById("graphiql");
  var fetcher = GraphiQL.createFetcher({
    url: el.dataset.url,
    headers: {"X-CSRFToken": el.dataset.csrf},
  });
  ReactDOM.createRoot(el).render(React.createElement(GraphiQL, {fetcher: fetcher}));
})();
