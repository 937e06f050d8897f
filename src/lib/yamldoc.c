/* yamldoc: see include/tocsin/yamldoc.h. */
#include "tocsin/yamldoc.h"

int
tc_yaml_load(const char *name, const char *data, size_t len,
    yaml_document_t *doc, struct tc_buf *errors)
{
	yaml_parser_t parser;
	int           rc = 0;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data,
	    len);
	if (!yaml_parser_load(&parser, doc)) {
		if (errors)
			tc_buf_printf(errors, "%s:%zu:%zu: YAML: %s%s%s\n",
			    name, parser.problem_mark.line + 1,
			    parser.problem_mark.column + 1,
			    parser.problem ? parser.problem : "syntax error",
			    parser.context ? " " : "",
			    parser.context ? parser.context : "");
		rc = TC_EINPUT;
	}
	yaml_parser_delete(&parser);
	return rc;
}

void
tc_yaml_verror(struct tc_buf *errors, const char *name, const yaml_node_t *n,
    const char *field, const char *fmt, va_list ap)
{
	if (n != NULL)
		tc_buf_printf(errors, "%s:%zu:%zu: ", name,
		    n->start_mark.line + 1, n->start_mark.column + 1);
	else
		tc_buf_printf(errors, "%s: ", name);
	if (field != NULL && *field)
		tc_buf_printf(errors, "%s: ", field);
	tc_buf_vprintf(errors, fmt, ap);
	tc_buf_putc(errors, '\n');
}
