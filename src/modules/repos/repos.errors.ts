import { defineErrors } from "../../http/problem.js";

export const reposErrors = defineErrors({
  linkTemplateNotFound: [404, "repos.link_template_not_found"],
});
