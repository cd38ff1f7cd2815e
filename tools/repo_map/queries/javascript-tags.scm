; Definitions: functions, classes, methods and functions bound to variables.
(function_declaration name: (identifier) @definition.function)
(generator_function_declaration name: (identifier) @definition.function)
(class_declaration name: (identifier) @definition.class)
(method_definition name: (property_identifier) @definition.method)
(variable_declarator name: (identifier) @definition.function value: [(arrow_function) (function_expression)])

; References: calls, constructions and base classes.
(call_expression function: [(identifier) @reference.call (member_expression property: (property_identifier) @reference.call)])
(new_expression constructor: (identifier) @reference.class)
(class_heritage (identifier) @reference.class)
